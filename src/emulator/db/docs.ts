/**
 * Stored documents: the public JSON of each resource, field for field and in
 * the order the live API sends them (recorded responses of the Scaleway CLI and
 * Terraform provider test suites; types from scaleway-sdk-go).
 */

/** `iam/v1alpha1` APIKey. The secret is never stored: `secret_key` is always null here. */
export interface ApiKeyDoc {
  access_key: string
  secret_key: null
  description: string
  created_at: string
  updated_at: string
  expires_at: string | null
  default_project_id: string
  editable: boolean
  deletable: boolean
  managed: boolean
  creation_ip: string
  application_id?: string
  user_id?: string
}

/** `iam/v1alpha1` Application (`nb_api_keys` is computed when rendered). */
export interface ApplicationDoc {
  id: string
  name: string
  description: string
  created_at: string
  updated_at: string
  organization_id: string
  editable: boolean
  deletable: boolean
  managed: boolean
  nb_api_keys: number
  tags: string[]
}

/** `iam/v1alpha1` User. */
export interface UserDoc {
  id: string
  email: string
  username: string
  first_name: string
  last_name: string
  phone_number: string
  locale: string
  created_at: string
  updated_at: string
  organization_id: string
  deletable: boolean
  last_login_at: string | null
  type: 'owner' | 'member'
  two_factor_enabled: boolean
  status: 'invitation_pending' | 'activated'
  mfa: boolean
  account_root_user_id: string
  tags: string[]
  locked: boolean
}

/** `iam/v1alpha1` Group. */
export interface GroupDoc {
  id: string
  created_at: string
  updated_at: string
  organization_id: string
  name: string
  description: string
  user_ids: string[]
  application_ids: string[]
  tags: string[]
  editable: boolean
  deletable: boolean
  managed: boolean
}

/** `iam/v1alpha1` Policy (the `nb_*` counters are computed when rendered). */
export interface PolicyDoc {
  id: string
  name: string
  description: string
  organization_id: string
  created_at: string
  updated_at: string
  editable: boolean
  deletable: boolean
  managed: boolean
  nb_rules: number
  nb_scopes: number
  nb_permission_sets: number
  tags: string[]
  user_id?: string
  group_id?: string
  application_id?: string
  no_principal?: boolean
}

/** `iam/v1alpha1` Rule. */
export interface RuleDoc {
  id: string
  permission_set_names: string[]
  permission_sets_scope_type: 'projects' | 'organization'
  condition: string
  project_ids?: string[]
  organization_id?: string
}

/** A secret environment variable as the serverless APIs show it. */
export interface SecretHashedValue {
  key: string
  hashed_value: string
}

/** `functions/v1beta1` and `containers/v1beta1` Namespace. */
export interface NamespaceDoc {
  id: string
  name: string
  environment_variables: Record<string, string>
  organization_id: string
  project_id: string
  status: 'ready' | 'pending' | 'deleting'
  registry_namespace_id: string
  error_message: string | null
  registry_endpoint: string
  description: string
  secret_environment_variables: SecretHashedValue[]
  tags: string[]
  created_at: string
  updated_at: string
  vpc_integration_activated: boolean
  region: string
}

/** Lifecycle of a function or container. */
export type ServerlessStatus = 'created' | 'pending' | 'ready' | 'deleting'

/** Who may call a function or container without a credential. */
export type Privacy = 'public' | 'private'

/** `functions/v1beta1` Function. */
export interface FunctionDoc {
  id: string
  name: string
  namespace_id: string
  status: ServerlessStatus
  environment_variables: Record<string, string>
  min_scale: number
  max_scale: number
  runtime: string
  memory_limit: number
  cpu_limit: number
  timeout: string
  handler: string
  error_message: string | null
  privacy: Privacy
  description: string
  domain_name: string
  secret_environment_variables: SecretHashedValue[]
  http_option: 'enabled' | 'redirected'
  runtime_message: string
  build_message: string | null
  sandbox: 'v1' | 'v2'
  created_at: string
  updated_at: string
  ready_at: string | null
  tags: string[]
  private_network_id: string | null
  region: string
}

/**
 * When a container scales: precisely one rule (`ContainerScalingOption`).
 * CPU and memory rules are percentages of the container's limits.
 */
export type ScalingOption = { concurrent_requests_threshold: number } | { cpu_usage_threshold: number } | { memory_usage_threshold: number }

/**
 * A container's health check (`ContainerHealthCheckSpec`): precisely one probe,
 * `http` (a path) or `tcp` (the port), after `failure_threshold` and `interval`
 * as the live API orders them.
 */
export type HealthCheck = { failure_threshold: number; interval: string } & ({ http: { path: string } } | { tcp: Record<string, never> })

/** `containers/v1beta1` Container. */
export interface ContainerDoc {
  id: string
  name: string
  namespace_id: string
  status: ServerlessStatus
  environment_variables: Record<string, string>
  min_scale: number
  max_scale: number
  memory_limit: number
  cpu_limit: number
  timeout: string
  error_message: string | null
  privacy: Privacy
  description: string
  registry_image: string
  max_concurrency: number
  domain_name: string
  protocol: 'http1' | 'h2c'
  port: number
  secret_environment_variables: SecretHashedValue[]
  http_option: 'enabled' | 'redirected'
  sandbox: 'v1' | 'v2'
  local_storage_limit: number
  scaling_option: ScalingOption
  created_at: string
  updated_at: string
  ready_at: string | null
  health_check: HealthCheck
  tags: string[]
  private_network_id: string | null
  command: string[]
  args: string[]
  region: string
}

/** Legacy serverless token as get and list show it (token and key hidden). */
export interface TokenDoc {
  description: string
  expires_at: string | null
  function_id?: string
  container_id?: string
  namespace_id?: string
  id: string
  public_key: string
  status: 'creating' | 'ready' | 'deleting'
  token: string
}
