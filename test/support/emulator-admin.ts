import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { adminApi, type AdminDependencies } from '../../src/admin/admin-api.js'
import { adminAuth } from '../../src/admin/admin-auth.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import { ApiClient } from '../../src/sync/api-client.js'
import { IamApi } from '../../src/sync/iam-api.js'
import { Registry } from '../../src/sync/registry.js'
import { runSync } from '../../src/sync/run-sync.js'
import { ownerStub } from '../../src/sync/owner-client.js'
import { ServerlessApi } from '../../src/sync/serverless-api.js'

/** The bootstrap token of {@link emulatorAdmin}'s admin API. */
export const EMULATOR_ADMIN_TOKEN = 'emulator-admin-tests-token-71c2'

/** Calls the emulator's API as its organisation owner. */
export async function emulator<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${env.EMULATOR_URL}${path}`, {
    method,
    headers: { 'x-auth-token': env.EMULATOR_ADMIN_SECRET, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

/** The emulator's organisation. */
export async function emulatorOrganization(): Promise<string> {
  return (await emulator<{ organization_id: string }>('GET', '/emulator/info')).body.organization_id
}

/**
 * The admin API over the emulator's IAM and serverless APIs (as the owner), the
 * test KV, the test origins (http://127.0.0.1); `extra` overrides dependencies.
 * `call` runs a request and waits for the background work it started.
 */
export function emulatorAdmin(org: string, extra: Partial<AdminDependencies> = {}) {
  const client = (token: string) => new ApiClient({ baseUrl: env.EMULATOR_URL, token, attempts: 1 })
  const iam = new IamApi(client(env.EMULATOR_ADMIN_SECRET))
  const serverless = new ServerlessApi(client(env.EMULATOR_ADMIN_SECRET), 'fr-par')
  const auth = adminAuth({ keySet: () => new KvKeySetStore(env.KEYSET), bootstrapToken: () => EMULATOR_ADMIN_TOKEN, organizationId: () => org, realm: 'edge-auth-gateway' })
  const app = new Hono()
  app.route(
    '/admin',
    adminApi(
      () =>
        // Descriptors, not values: a getter in `extra` (IAM not configured) throws when read, as the Worker's do.
        Object.defineProperties(
          {
            kv: env.KEYSET,
            registry: new Registry(env.KEYSET),
            iam,
            serverless,
            organizationId: org,
            iamAs: (secret: string) => new IamApi(client(secret)),
            sync: (request) => runSync({ kv: env.KEYSET, owner: ownerStub(env.KEYSET_WRITER), apis: { iam, serverless, organizationId: org } }, request),
            allowInsecureLoopbackOrigins: true,
          },
          Object.getOwnPropertyDescriptors(extra),
        ) as AdminDependencies,
      { auth },
    ),
  )
  const pending: Promise<unknown>[] = []
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  return {
    ctx,
    async call(method: string, path: string, body?: unknown) {
      const res = await app.request(
        `https://gw.example/admin${path}`,
        { method, headers: { 'x-auth-token': EMULATOR_ADMIN_TOKEN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
        env,
        ctx,
      )
      const text = await res.text()
      await Promise.allSettled(pending.splice(0))
      return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as any, text }
    },
  }
}
