/**
 * Every admin change is live in the isolate that made it from its next request
 * (docs/revocation.md, "Changes made through the admin API"): through the real
 * Worker, whose gateway keeps its key set in memory for 30 s (wrangler.toml).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { Hono } from 'hono'
import { SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { keySetChanged, SYNC_HEADER, type KeySetChangeDependencies } from '../../src/admin/key-set-change.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import type { Route } from '../../src/keyset/schema.js'
import { Registry } from '../../src/sync/registry.js'
import { runSync } from '../../src/sync/run-sync.js'
import { ADMIN_PATH, admin, adminJson, clearKv, owner, settled } from '../support/admin-api.js'
import { PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'
import { workerWithVars } from '../support/worker-with-vars.js'

const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' }
const consumersRoute = { id: 'consumers', paths: ['/consumers'], target, auth: { accept: ['consumer-jwt'] } }
const gateway = (path: string, init?: RequestInit) => exports.default.fetch(`https://gw.example${path}`, init)
const codeOf = async (res: Response) => ((await res.json()) as { code?: string }).code

beforeAll(async () => {
  await settled()
  await clearKv()
  expect((await adminJson('PUT', '/routes', { routes: [consumersRoute] })).status).toBe(200)
  // The gateway's store now holds this key set in memory, for the next 30 s.
  expect((await gateway('/consumers')).status).toBe(401)
})

describe('through the Worker', () => {
  it('routes the very next request after PUT /routes answers, and stops routing a removed path on the next one', async () => {
    const missing = await gateway('/later')
    expect(missing.status).toBe(404)
    expect(await codeOf(missing)).toBe('route_not_found')

    const put = await adminJson('PUT', '/routes', { routes: [consumersRoute, { ...consumersRoute, id: 'later', paths: ['/later'] }] })
    expect(put).toMatchObject({ status: 200, body: { routes: 2, sync: 'synced' } })
    expect(put.headers.get(SYNC_HEADER)).toBe('synced')
    const routed = await gateway('/later')
    expect(routed.status).toBe(401)
    expect(await codeOf(routed)).toBe('credentials_missing')

    expect((await adminJson('PUT', '/routes', { routes: [consumersRoute] })).body.sync).toBe('synced')
    const removed = await gateway('/later')
    expect(removed.status).toBe(404)
    expect(await codeOf(removed)).toBe('route_not_found')
  })

  it('accepts a new consumer credential on the next request, and refuses it on the next request after its deletion, before the origin', async () => {
    const consumer = await adminJson('POST', '/consumers', { username: 'next-request' })
    expect(consumer.headers.get(SYNC_HEADER)).toBe('synced')
    const credential = await adminJson('POST', `/consumers/${consumer.body.id}/jwt`, { algorithm: 'HS256' })
    expect(credential.headers.get(SYNC_HEADER)).toBe('synced')
    // The generated secret is used exactly as printed: its UTF-8 bytes are the key.
    const secret = new TextEncoder().encode(credential.body.secret)
    const token = await new SignJWT({ iss: credential.body.key }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret)

    const allowed = await gateway('/consumers', { headers: { authorization: `Bearer ${token}` } })
    expect(allowed.status).toBe(200)
    expect(((await allowed.json()) as OriginEcho).headers['x-consumer-username']).toBe('next-request')

    const deleted = await admin('DELETE', `/consumers/${consumer.body.id}/jwt/${credential.body.id}`)
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get(SYNC_HEADER)).toBe('synced')
    const marker = newMarker()
    const refused = await gateway('/consumers', { headers: { authorization: `Bearer ${token}`, 'x-test-marker': marker } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The token names no known credential."')
    expect(await codeOf(refused)).toBe('credential_unknown')
    expect(await originSaw(marker)).toBe(false)
  })

  it('answers a change whose sync fails with its success status and X-Edgegw-Sync: failed; the change is saved', async () => {
    // The sync runs as a Workflow with the Worker's own bindings: here the Workflows service
    // refuses to start a run (the one part replaced: a Workflow binding whose create fails).
    // The sync fails; the registry write stands.
    const unavailable = { create: () => Promise.reject(new Error('Workflows unavailable')), get: () => Promise.reject(new Error('Workflows unavailable')) }
    const vars = { SYNC_WORKFLOW: unavailable } as unknown as Record<string, string>
    const res = await workerWithVars(vars, `https://gw.example${ADMIN_PATH}/routes`, {
      method: 'PUT',
      headers: { 'x-auth-token': env.ADMIN_TOKEN!, 'content-type': 'application/json' },
      body: JSON.stringify({ routes: [consumersRoute, { ...consumersRoute, id: 'saved', paths: ['/saved'] }] }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get(SYNC_HEADER)).toBe('failed')
    expect(await res.json()).toEqual({ routes: 2, sync: 'failed' })
    expect((await adminJson('GET', '/routes')).body.routes.map((r: { id: string }) => r.id)).toEqual(['consumers', 'saved'])
    expect((await adminJson('PUT', '/routes', { routes: [consumersRoute] })).body.sync).toBe('synced')
  })
})

describe('keySetChanged', () => {
  /** One admin-like change through a Hono app, with `dependencies`; the response and the execution context it ran in. */
  async function change(dependencies: KeySetChangeDependencies) {
    const app = new Hono()
    app.post('/change', async (c) => c.json({ sync: await keySetChanged(c, dependencies) }, 201))
    const ctx = createExecutionContext()
    const res = await app.request('https://admin.example/change', { method: 'POST' }, env, ctx)
    return { res, ctx }
  }

  it('answers pending once the wait is over, and tells the store when the sync ends in the background', async () => {
    await settled()
    const store = new KvKeySetStore(env.KEYSET)
    const old = await store.current({ waitUntil: () => undefined })
    await new Registry(env.KEYSET).saveRoutes([consumersRoute, { ...consumersRoute, id: 'background', paths: ['/background'] }] as Route[])
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { res, ctx } = await change({ sync: async () => (await gate, runSync({ kv: env.KEYSET, owner: owner() })), keySet: store, changeSyncWaitMs: 20 })
    expect(res.status).toBe(201)
    expect(res.headers.get(SYNC_HEADER)).toBe('pending')
    expect(await res.json()).toEqual({ sync: 'pending' })
    expect((await store.current({ waitUntil: () => undefined })).snapshotId).toBe(old.snapshotId)
    release()
    await waitOnExecutionContext(ctx)
    const next = await store.current({ waitUntil: () => undefined })
    expect(next.routes.map((route) => route.id)).toEqual(['consumers', 'background'])
    await new Registry(env.KEYSET).saveRoutes([consumersRoute] as Route[])
    await runSync({ kv: env.KEYSET, owner: owner() })
  })

  it('answers failed, and never throws, when the sync rejects', async () => {
    const { res } = await change({ sync: () => Promise.reject(new Error('not configured')) })
    expect(res.status).toBe(201)
    expect(res.headers.get(SYNC_HEADER)).toBe('failed')
  })
})
