/** Every resource table of the emulator, typed. */
import type { ApiKeyDoc, ApplicationDoc, ContainerDoc, FunctionDoc, GroupDoc, NamespaceDoc, PolicyDoc, RuleDoc, TokenDoc, UserDoc } from './docs.js'
import { timestamp } from '../http/ids.js'
import { Table } from './table.js'

const bool = (value: boolean): number => (value ? 1 : 0)

/** The tables over one SQLite database. */
export class Tables {
  readonly apiKeys: Table<ApiKeyDoc>
  readonly applications: Table<ApplicationDoc>
  readonly users: Table<UserDoc>
  readonly groups: Table<GroupDoc>
  readonly policies: Table<PolicyDoc>
  /** Rules; `policy_id` and `position` are set at insert (rules are replaced, never edited). */
  readonly rules: Table<RuleDoc>
  /** Namespaces of both products; `product` is set at insert. */
  readonly namespaces: Table<NamespaceDoc>
  /** Functions; `organization_id` and `project_id` come from the namespace at insert. */
  readonly functions: Table<FunctionDoc>
  /** Containers; `organization_id` and `project_id` come from the namespace at insert. */
  readonly containers: Table<ContainerDoc>
  /** Tokens of both products; `product`, `region`, `namespace_id`, `resource_id` are set at insert. */
  readonly tokens: Table<TokenDoc>

  constructor(readonly sql: SqlStorage) {
    this.apiKeys = new Table<ApiKeyDoc>(sql, 'api_keys', (d) => d.access_key, (d) => ({
      bearer_type: d.user_id !== undefined ? 'user' : 'application',
      bearer_id: d.user_id ?? d.application_id ?? null,
      description: d.description,
      created_at: d.created_at,
      updated_at: d.updated_at,
      // One format in the column, so that expiry compares as text.
      expires_at: d.expires_at === null ? null : timestamp(new Date(d.expires_at)),
      editable: bool(d.editable),
    }))
    this.applications = new Table<ApplicationDoc>(sql, 'applications', (d) => d.id, (d) => ({
      organization_id: d.organization_id,
      name: d.name,
      created_at: d.created_at,
      updated_at: d.updated_at,
      editable: bool(d.editable),
    }))
    this.users = new Table<UserDoc>(sql, 'users', (d) => d.id, (d) => ({
      organization_id: d.organization_id,
      email: d.email,
      type: d.type,
      mfa: bool(d.mfa),
      created_at: d.created_at,
      updated_at: d.updated_at,
      last_login_at: d.last_login_at,
    }))
    this.groups = new Table<GroupDoc>(sql, 'groups', (d) => d.id, (d) => ({
      organization_id: d.organization_id,
      name: d.name,
      created_at: d.created_at,
      updated_at: d.updated_at,
    }))
    this.policies = new Table<PolicyDoc>(sql, 'policies', (d) => d.id, (d) => ({
      organization_id: d.organization_id,
      name: d.name,
      created_at: d.created_at,
      editable: bool(d.editable),
      principal_type: d.user_id ? 'user' : d.group_id ? 'group' : d.application_id ? 'application' : 'none',
      principal_id: d.user_id ?? d.group_id ?? d.application_id ?? null,
    }))
    this.rules = new Table<RuleDoc>(sql, 'rules', (d) => d.id, () => ({}))
    this.namespaces = new Table<NamespaceDoc>(sql, 'namespaces', (d) => d.id, (d) => ({
      region: d.region,
      organization_id: d.organization_id,
      project_id: d.project_id,
      name: d.name,
      created_at: d.created_at,
    }))
    this.functions = new Table<FunctionDoc>(sql, 'functions', (d) => d.id, (d) => ({
      region: d.region,
      namespace_id: d.namespace_id,
      name: d.name,
      created_at: d.created_at,
    }))
    this.containers = new Table<ContainerDoc>(sql, 'containers', (d) => d.id, (d) => ({
      region: d.region,
      namespace_id: d.namespace_id,
      name: d.name,
      created_at: d.created_at,
    }))
    this.tokens = new Table<TokenDoc>(sql, 'tokens', (d) => d.id, () => ({}))
  }
}
