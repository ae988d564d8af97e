/** Helpers of the stack tests: a stack in a temporary state directory, API clients, bounded polling. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RuleSpec } from '../../scripts/lib/fixture.js'
import { jsonApi, type JsonApi } from '../../scripts/lib/json-api.js'
import { startStack, type RunningStack, type StackOptions } from '../../scripts/lib/stack.js'
import type { KvReader } from '../../scripts/lib/workers.js'

/** A stack on free ports in a fresh temporary state directory. */
export interface TestStack {
  stack: RunningStack
  stateDir: string
  /** The emulator's API as the organisation owner. */
  emulator: JsonApi
  /** The gateway's admin API with ADMIN_TOKEN. */
  admin: JsonApi
  /** Stops the stack and removes its state. */
  cleanup(): Promise<void>
}

/** Starts a stack on port 0 in a temporary directory; no timed sync unless asked. */
export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const stateDir = await mkdtemp(join(tmpdir(), 'edgegw-stack-'))
  const stack = await startStack({ gatewayPort: 0, emulatorPort: 0, syncIntervalSeconds: 0, stateDir, ...options })
  return {
    stack,
    stateDir,
    emulator: jsonApi(stack.emulatorUrl, stack.secrets.emulatorAdminSecret),
    admin: jsonApi(stack.adminUrl, stack.secrets.adminToken),
    cleanup: async () => {
      await stack.dispose()
      await rm(stateDir, { recursive: true, force: true })
    },
  }
}

/** A client key made straight in the emulator's IAM, as an operator would, outside the gateway. */
export interface ClientKey {
  applicationId: string
  applicationName: string
  accessKey: string
  secretKey: string
}

let counter = 0

/** Creates an application, its policy (when `rules` is not empty) and an API key, through the emulator's IAM API. */
export async function emulatorKey(emulator: JsonApi, organizationId: string, rules: RuleSpec[]): Promise<ClientKey> {
  counter += 1
  const name = `stack-test-${process.pid}-${counter}`
  const app = await emulator.call<{ id: string }>('POST', '/iam/v1alpha1/applications', { name, organization_id: organizationId })
  if (rules.length > 0) await emulator.call('POST', '/iam/v1alpha1/policies', { name: `${name}-policy`, organization_id: organizationId, application_id: app.id, rules })
  const key = await emulator.call<{ access_key: string; secret_key: string }>('POST', '/iam/v1alpha1/api-keys', { application_id: app.id, description: 'stack test' })
  return { applicationId: app.id, applicationName: name, accessKey: key.access_key, secretKey: key.secret_key }
}

/** Hands a key to the gateway once (it captures the digest) and syncs; the sync must answer ok. */
export async function registerAndSync(admin: JsonApi, key: ClientKey): Promise<void> {
  await admin.call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: key.secretKey })
  await admin.call('POST', '/sync', {})
}

/** A call through the gateway, with a credential in `X-Auth-Token` when given. */
export async function through(stack: RunningStack, path: string, secret?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: secret ? { 'x-auth-token': secret } : {} })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

/**
 * Polls `probe` every `intervalMs` until `done` holds, for at most `timeoutMs`.
 * @throws {Error} with the last value when the time is up.
 */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, limits: { timeoutMs: number; intervalMs?: number }): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now()
  for (;;) {
    const value = await probe()
    const elapsedMs = Date.now() - started
    if (done(value)) return { value, elapsedMs }
    if (elapsedMs > limits.timeoutMs) throw new Error(`pollUntil: not done after ${elapsedMs} ms; last value ${JSON.stringify(value).slice(0, 300)}`)
    await new Promise((resolve) => setTimeout(resolve, limits.intervalMs ?? 100))
  }
}

/** Every key of a KV namespace, with its value and metadata. */
export async function dumpKv(kv: KvReader): Promise<Record<string, { value: string | null; metadata: unknown }>> {
  const dump: Record<string, { value: string | null; metadata: unknown }> = {}
  let cursor: string | undefined
  do {
    const page = await kv.list(cursor ? { cursor } : {})
    for (const key of page.keys) dump[key.name] = { value: await kv.get(key.name, { type: 'text' }), metadata: (key as { metadata?: unknown }).metadata ?? null }
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return dump
}

/** What the emulator's platform echoes for an allowed call. */
export interface PlatformEcho {
  resource: { kind: string; id: string; name: string; namespace_id: string; project_id: string }
  credential: 'none' | 'iam_api_key' | 'legacy_token'
  path: string
  headers: Record<string, string>
}
