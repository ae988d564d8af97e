import type { GatewayEnv, GatewaySettings } from '../settings.js'
import { ApiClient } from './api-client.js'
import { IamApi } from './iam-api.js'
import { runSync, type SyncOutcome } from './run-sync.js'
import { ServerlessApi } from './serverless-api.js'

/** The IAM and serverless clients, from the Worker's settings and its `IAM_API_TOKEN` secret. */
export function apisFromEnv(env: GatewayEnv, settings: GatewaySettings): { iam: IamApi; serverless: ServerlessApi; organizationId: string } {
  if (!env.IAM_API_TOKEN) throw new Error('the sync is not configured: set the IAM_API_TOKEN secret')
  if (!settings.organizationId) throw new Error('the sync is not configured: set SCW_ORGANIZATION_ID')
  const client = new ApiClient({ baseUrl: settings.iamApiUrl, token: env.IAM_API_TOKEN })
  return { iam: new IamApi(client), serverless: new ServerlessApi(client, settings.region), organizationId: settings.organizationId }
}

/** Runs one sync with the Worker's bindings. */
export function syncFromEnv(env: GatewayEnv, settings: GatewaySettings): Promise<SyncOutcome> {
  const apis = apisFromEnv(env, settings)
  return runSync({ kv: env.KEYSET, ...apis, statusHeartbeatSeconds: settings.statusHeartbeatSeconds })
}
