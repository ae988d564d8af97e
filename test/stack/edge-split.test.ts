/**
 * The two-Worker deployment (docs/operations.md, "Two Workers"): the edge Worker
 * (src/edge-worker.ts, wrangler.edge.toml) beside the control plane (src/worker.ts,
 * wrangler.toml), both in one workerd through Miniflare, configured from their own
 * wrangler files (the edge's service binding and its Durable Object binding with
 * `script_name` resolved to the control Worker), sharing the KV namespace. The key
 * set is the benchmark's (scripts/bench/fixtures.ts), written into that namespace;
 * the origin is a Node server on 127.0.0.1 that records what reaches it.
 */
import { Miniflare } from 'miniflare'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_KEY_SECRET, CREDENTIAL_ENCRYPTION_KEY, ORIGIN_AUTH_TOKEN, makeFixtures, type BenchFixtures } from '../../scripts/bench/fixtures.js'
import { bundleWorker } from '../../scripts/lib/bundle.js'
import { repoFile } from '../../scripts/lib/workers.js'
import { pollUntil } from './support.js'

const ADMIN = '/__edgegw/admin/v1'
const ADMIN_TOKEN = 'split-test-admin-token-3f9c1e'
const REALM = 'Bearer realm="edge-auth-gateway"'
const UNKNOWN_KEY = '0b0b0b0b-0000-4000-8000-00000000dead'

/** What reached the origin: each request's marker and the credential it carried. */
const seen: { marker: string | undefined; credential: string | undefined; path: string }[] = []
let origin: Server
let mf: Miniflare
let edgeUrl: string
let fixtures: BenchFixtures

async function workerOptions(configPath: string) {
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler')
  return unstable_getMiniflareWorkerOptions(repoFile(configPath)).workerOptions
}

beforeAll(async () => {
  origin = createServer((req, res) => {
    seen.push({ marker: req.headers['x-test-marker'] as string | undefined, credential: req.headers['x-auth-token'] as string | undefined, path: req.url ?? '' })
    res.writeHead(200, { 'content-type': 'text/plain' }).end('origin says hello')
  })
  await new Promise<void>((done) => origin.listen(0, '127.0.0.1', done))
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
  fixtures = await makeFixtures(originUrl)

  const [edge, control, edgeScript, controlScript] = await Promise.all([
    workerOptions('wrangler.edge.toml'),
    workerOptions('wrangler.toml'),
    bundleWorker(repoFile('src/edge-worker.ts')),
    bundleWorker(repoFile('src/worker.ts')),
  ])
  // The origin is http://127.0.0.1; Miniflare keeps a client-sent CF-Connecting-IP, so no client-IP header is trusted.
  const local = { ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true', CLIENT_IP_HEADER: 'none', ORIGIN_AUTH_TOKEN, CREDENTIAL_ENCRYPTION_KEY }
  mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: [
      {
        // The first Worker is the one Miniflare serves: the edge, as the public route would.
        name: 'edge-auth-gateway-edge',
        modules: true,
        script: edgeScript,
        compatibilityDate: edge.compatibilityDate ?? '2026-04-20',
        kvNamespaces: edge.kvNamespaces ?? {},
        // USAGE → UsageLedger of script "edge-auth-gateway"; CONTROL → the Worker "edge-auth-gateway".
        durableObjects: edge.durableObjects ?? {},
        serviceBindings: edge.serviceBindings ?? {},
        // Every accepted request flushed at once, so the ledger shows it without waiting.
        bindings: { ...(edge.bindings as Record<string, string>), ...local, USAGE_FLUSH_REQUESTS: '1' },
      },
      {
        name: 'edge-auth-gateway',
        modules: true,
        script: controlScript,
        compatibilityDate: control.compatibilityDate ?? '2026-04-20',
        kvNamespaces: control.kvNamespaces ?? {},
        durableObjects: control.durableObjects ?? {},
        workflows: control.workflows ?? {},
        bindings: { ...(control.bindings as Record<string, string>), ...local, ADMIN_TOKEN },
      },
    ],
  })
  edgeUrl = (await mf.ready).toString().replace(/\/$/, '')
  // The key set as the control plane's sync would have written it, into the one namespace both Workers bind.
  const kv = await mf.getKVNamespace('KEYSET', 'edge-auth-gateway')
  for (const [key, value] of fixtures.kv) await kv.put(key, value)
}, 120_000)

afterAll(async () => {
  await mf?.dispose()
  await new Promise<void>((done) => (origin ? origin.close(() => done()) : done()))
})

/** A call to the control-plane Worker itself (not through the edge), for comparison. */
async function toControl(path: string, init: RequestInit): Promise<Response> {
  const worker = await mf.getWorker('edge-auth-gateway')
  return (await worker.fetch(`http://control.internal${path}`, init as never)) as unknown as Response
}

describe('the edge Worker beside the control plane', () => {
  it('forwards a call with a valid IAM key to the origin, with the origin credential', async () => {
    const marker = crypto.randomUUID()
    const res = await fetch(`${edgeUrl}${fixtures.requests.apikey!.path}`, { headers: { ...fixtures.requests.apikey!.headers, 'x-test-marker': marker } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('origin says hello')
    expect(seen.filter((s) => s.marker === marker)).toEqual([{ marker, credential: ORIGIN_AUTH_TOKEN, path: '/fn/hello' }])
  })

  it.each<{ name: string; headers: Record<string, string>; code: string; challenge: string }>([
    { name: 'no credential', headers: {}, code: 'credentials_missing', challenge: REALM },
    { name: 'an unknown key', headers: { 'x-auth-token': UNKNOWN_KEY }, code: 'api_key_unknown', challenge: `${REALM}, error="invalid_token", error_description="The API key is not known."` },
  ])('refuses $name as the control plane does (401 $code), and never reaches the origin', async ({ headers, code, challenge }) => {
    const answers = []
    for (const call of [(init: RequestInit) => fetch(`${edgeUrl}/apikey/hello`, init), (init: RequestInit) => toControl('/apikey/hello', init)]) {
      const marker = crypto.randomUUID()
      const res = await call({ headers: { ...headers, 'x-test-marker': marker } })
      const body = (await res.json()) as { status: number; code: string }
      answers.push({ status: res.status, code: body.code, challenge: res.headers.get('www-authenticate'), type: res.headers.get('content-type') })
      expect(seen.some((s) => s.marker === marker)).toBe(false)
    }
    expect(answers[0]).toEqual({ status: 401, code, challenge, type: 'application/problem+json' })
    expect(answers[1]).toEqual(answers[0])
  })

  it('hands the admin API to the control plane: GET /status with the admin token', async () => {
    const res = await fetch(`${edgeUrl}${ADMIN}/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(res.status).toBe(200)
    const status = (await res.json()) as Record<string, unknown>
    const direct = (await (await toControl(`${ADMIN}/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Record<string, unknown>
    // The key set the fixture wrote, as the control plane itself reports it.
    expect(status).toMatchObject({ keySet: { source: 'fixture', apiKeys: 2 } })
    expect(status).toEqual(direct)
  })

  it('hands a refused admin call to the control plane too: its 401, not a gateway route_not_found', async () => {
    const res = await fetch(`${edgeUrl}${ADMIN}/status`, { headers: { authorization: 'Bearer not-the-admin-token-000000' } })
    const direct = await toControl(`${ADMIN}/status`, { headers: { authorization: 'Bearer not-the-admin-token-000000' } })
    expect(res.status).toBe(401)
    expect(res.status).toBe(direct.status)
    expect(((await res.json()) as { code: string }).code).toBe(((await direct.json()) as { code: string }).code)
  })

  it('counts usage at the edge into the control plane’s ledger, read through the admin API', async () => {
    const calls = 3
    for (let i = 0; i < calls; i++) {
      const res = await fetch(`${edgeUrl}/apikey/hello`, { headers: { 'x-auth-token': API_KEY_SECRET } })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    }
    type Usage = { credentials: { kind: string; calls: number; routes: { route: string; calls: number }[] }[] }
    // Each flush is the edge's background work after its answer: polled, bounded.
    const { value } = await pollUntil(
      async () => (await (await fetch(`${edgeUrl}${ADMIN}/usage`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Usage,
      (usage) => (usage.credentials.find((c) => c.routes.some((r) => r.route === 'apikey'))?.calls ?? 0) >= calls + 1,
      { timeoutMs: 10_000 },
    )
    // The three calls here and the first test's.
    expect(value.credentials.find((c) => c.routes.some((r) => r.route === 'apikey'))).toMatchObject({ kind: 'iam-api-key', calls: calls + 1, routes: [{ route: 'apikey', calls: calls + 1 }] })
  })
})

describe('the edge Worker without its control plane', () => {
  it('answers 503 config_invalid naming CONTROL while the service binding is missing', async () => {
    const edge = await workerOptions('wrangler.edge.toml')
    const alone = new Miniflare({
      modules: true,
      script: await bundleWorker(repoFile('src/edge-worker.ts')),
      compatibilityDate: edge.compatibilityDate ?? '2026-04-20',
      kvNamespaces: edge.kvNamespaces ?? {},
      bindings: { ...(edge.bindings as Record<string, string>), ORIGIN_AUTH_TOKEN },
    })
    try {
      const res = (await alone.dispatchFetch(`http://edge.internal${ADMIN}/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })) as unknown as Response
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ code: 'config_invalid', setting: 'CONTROL' })
    } finally {
      await alone.dispose()
    }
  })
})
