import { readSettings, SettingError, type GatewayEnv, type GatewaySettings } from './settings.js'

/** Secrets and settings whose absence changes what the gateway can do, without making it wrong. */
export interface ConfigWarning {
  setting: keyof GatewayEnv
  message: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The checks beyond the vars: the KV binding and the secrets, first problem first. */
function bindingAndSecretProblems(env: GatewayEnv): SettingError[] {
  const problems: SettingError[] = []
  const kv = env.KEYSET as unknown
  if (typeof kv !== 'object' || kv === null || typeof (kv as KVNamespace).get !== 'function') {
    problems.push(new SettingError('KEYSET', 'is not bound: declare the KV namespace in wrangler.toml ([[kv_namespaces]] binding = "KEYSET")'))
  }
  if (!env.ORIGIN_AUTH_TOKEN) {
    problems.push(new SettingError('ORIGIN_AUTH_TOKEN', 'is not set: the secret the gateway presents to private origins (npx wrangler secret put ORIGIN_AUTH_TOKEN)'))
  }
  if (env.CREDENTIAL_ENCRYPTION_KEY !== undefined && env.CREDENTIAL_ENCRYPTION_KEY.length < 32) {
    problems.push(new SettingError('CREDENTIAL_ENCRYPTION_KEY', 'must be at least 32 characters (openssl rand -base64 32)'))
  }
  if (env.IAM_API_TOKEN && !env.SCW_ORGANIZATION_ID) {
    problems.push(new SettingError('SCW_ORGANIZATION_ID', 'must be set when IAM_API_TOKEN is: the organisation whose API keys are synced'))
  } else if (env.SCW_ORGANIZATION_ID && !UUID.test(env.SCW_ORGANIZATION_ID)) {
    problems.push(new SettingError('SCW_ORGANIZATION_ID', 'must be an organisation id (a UUID)'))
  }
  return problems
}

/**
 * Reads the Worker's configuration: its vars ({@link readSettings}), its secrets and
 * its KV binding. The Worker answers 503 `config_invalid` while this throws.
 * @throws {SettingError} naming the first setting that is missing or wrong (never its value).
 */
export function readWorkerConfig(env: GatewayEnv): GatewaySettings {
  const [first] = bindingAndSecretProblems(env)
  if (first) throw first
  return readSettings(env)
}

/**
 * Every problem of a configuration, for `npm run check-config`: the binding and
 * secret problems, then each wrong var (a var found wrong is set back to its
 * default to look for the next one).
 */
export function workerConfigProblems(env: GatewayEnv): SettingError[] {
  const problems = bindingAndSecretProblems(env)
  const vars: Record<string, unknown> = { ...env }
  for (let round = 0; round < 50; round++) {
    try {
      readSettings(vars as unknown as GatewayEnv)
      break
    } catch (error) {
      if (!(error instanceof SettingError)) throw error
      problems.push(error)
      if (vars[error.setting] === undefined) break
      vars[error.setting] = undefined
    }
  }
  return problems
}

/** What runs without these, and what does not: warnings, not errors. */
export function workerConfigWarnings(env: GatewayEnv): ConfigWarning[] {
  const warnings: ConfigWarning[] = []
  if (!env.IAM_API_TOKEN) warnings.push({ setting: 'IAM_API_TOKEN', message: 'is not set: the gateway runs without IAM (no API keys, no legacy tokens; routes, consumers and OIDC issuers only)' })
  if (!env.ADMIN_TOKEN) warnings.push({ setting: 'ADMIN_TOKEN', message: 'is not set: only IAM keys of the organisation owner or an IAMManager can use the admin API' })
  if (!env.CREDENTIAL_ENCRYPTION_KEY) warnings.push({ setting: 'CREDENTIAL_ENCRYPTION_KEY', message: 'is not set: consumer JWT credentials with HS256/384/512 cannot be created or verified' })
  return warnings
}
