import { runInDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { ownerStub } from '../../src/sync/owner-client.js'

/** Where the admin API lives. */
export const ADMIN_PATH = '/__edgegw/admin/v1'

/** Calls the real Worker's admin API with the bootstrap token (the `ADMIN_TOKEN` test binding). */
export function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`https://gw.example${ADMIN_PATH}${path}`, {
    method,
    headers: { 'x-auth-token': env.ADMIN_TOKEN!, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
}

/** Calls the admin API and returns the status and the parsed JSON body (`null` for an empty body). */
export async function adminJson<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers; text: string }> {
  const res = await admin(method, path, body)
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers, text }
}

/** The key-set owner of the test Worker. */
export const owner = () => ownerStub(env.KEYSET_WRITER)

/**
 * Deletes every key of the test KV namespace, once no sync run is left (admin changes
 * start runs in the background; a lease a test took by hand is not waited for past
 * a few seconds), and everything the key-set owner holds.
 */
export async function clearKv(): Promise<void> {
  await syncsDone(3_000).catch(() => undefined)
  let cursor: string | undefined
  do {
    const page = await env.KEYSET.list(cursor ? { cursor } : {})
    await Promise.all(page.keys.map(({ name }) => env.KEYSET.delete(name)))
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  await runInDurableObject(env.KEYSET_WRITER.get(env.KEYSET_WRITER.idFromName('keyset/v1')), async (_instance, state) => {
    await state.storage.deleteAlarm()
    await state.storage.deleteAll()
  })
}

/** Waits until no sync run holds or waits for the key-set writer lease. */
export async function syncsDone(timeoutMs = 20_000): Promise<void> {
  const started = Date.now()
  for (;;) {
    const state = await owner().inspect()
    if (!state.lease && !state.queued) return
    if (Date.now() - started > timeoutMs) throw new Error(`sync runs still going after ${timeoutMs} ms (lease: ${state.lease?.runId ?? 'none'})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Every key of the test KV namespace with its value and metadata, as text: what an attacker reading KV would see. */
export async function everythingInKv(): Promise<{ key: string; value: string; metadata: string }[]> {
  const all: { key: string; value: string; metadata: string }[] = []
  let cursor: string | undefined
  do {
    const page = await env.KEYSET.list(cursor ? { cursor } : {})
    for (const { name, metadata } of page.keys) {
      all.push({ key: name, value: (await env.KEYSET.get(name, { type: 'text' })) ?? '', metadata: JSON.stringify(metadata ?? null) })
    }
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return all
}

/**
 * Waits until the key set has stopped changing: the admin API starts a sync in
 * the background after each change, and a test that reads or rewrites the key
 * set must not race the last of them.
 */
export async function settled(quietMs = 150, timeoutMs = 5000): Promise<void> {
  await syncsDone()
  const started = Date.now()
  let last = await env.KEYSET.get('keyset/v1/manifest', { type: 'text' })
  let since = Date.now()
  while (Date.now() - since < quietMs) {
    if (Date.now() - started > timeoutMs) throw new Error('the key set kept changing')
    await new Promise((resolve) => setTimeout(resolve, 25))
    const now = await env.KEYSET.get('keyset/v1/manifest', { type: 'text' })
    if (now !== last) {
      last = now
      since = Date.now()
    }
  }
}

/** The key set as a cold isolate would read it now (a new store: no memory of earlier reads). */
export async function freshView(): Promise<import('../../src/keyset/store.js').KeySetView> {
  const { KvKeySetStore } = await import('../../src/keyset/kv-store.js')
  return new KvKeySetStore(env.KEYSET).current({ waitUntil: () => undefined })
}
