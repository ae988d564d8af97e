import { env, exports } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { exportJWK, generateKeyPair } from 'jose'
import { pkcs1PublicPem } from '../../src/emulator/serverless/signing.js'
import { Registry, registryKeys } from '../../src/sync/registry.js'
import { ADMIN_PATH, admin, adminJson, clearKv, settled } from '../support/admin-api.js'
import { secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// The edges of the admin API, through the real Worker: wrong credentials of every
// shape, paths it does not have, unexpected failures, oversized bodies, malformed
// path ids, and the audit line every change writes.

const REALM = 'Bearer realm="edge-auth-gateway"'
const invalidToken = (description: string) => `${REALM}, error="invalid_token", error_description="${description}"`

/** Lines the Worker writes with console.log / console.error during `run`, parsed when JSON. */
async function logged<T>(run: () => Promise<T>): Promise<{ result: T; lines: unknown[]; raw: string[] }> {
  const raw: string[] = []
  const capture = (...args: unknown[]) => void raw.push(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}\n${a.stack}` : JSON.stringify(a))).join(' '))
  const log = vi.spyOn(console, 'log').mockImplementation(capture)
  const error = vi.spyOn(console, 'error').mockImplementation(capture)
  const warn = vi.spyOn(console, 'warn').mockImplementation(capture)
  try {
    const result = await run()
    return {
      result,
      raw,
      lines: raw.map((line) => {
        try {
          return JSON.parse(line)
        } catch {
          return line
        }
      }),
    }
  } finally {
    log.mockRestore()
    error.mockRestore()
    warn.mockRestore()
  }
}

const audits = (lines: unknown[]) => lines.filter((line) => (line as { type?: string } | null)?.type === 'audit') as Record<string, any>[]

beforeEach(async () => {
  await settled()
  await clearKv()
})

afterEach(() => vi.restoreAllMocks())

describe('admin credentials', () => {
  beforeEach(() => seedKeySet())

  it.each([
    ['a wrong token that is not a UUID', { 'x-auth-token': 'not-the-admin-token' }, 'token_invalid', invalidToken('The token is not valid.')],
    ['a wrong token with characters no token has', { 'x-auth-token': 'wrong admin token!' }, 'token_invalid', invalidToken('The token is not valid.')],
    ['a wrong Bearer token with characters no token has', { authorization: 'Bearer wrong admin token' }, 'token_invalid', invalidToken('The token is not valid.')],
    ['an empty X-Auth-Token', { 'x-auth-token': '' }, 'token_invalid', invalidToken('The token is not valid.')],
    ['the admin token with one character changed', { 'x-auth-token': `${env.ADMIN_TOKEN!.slice(0, -1)}b` }, 'token_invalid', invalidToken('The token is not valid.')],
    ['a UUID no key set knows', { 'x-auth-token': secrets.unknown }, 'api_key_unknown', invalidToken('The API key is not known.')],
    ['a JWT', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' }, 'credentials_unsupported', invalidToken('This kind of credential is not accepted here.')],
    ['no credential', {}, 'credentials_missing', REALM],
    ['another auth scheme only', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'credentials_missing', REALM],
  ])('refuses %s with 401, a challenge, and changes nothing', async (_, headers, code, challenge) => {
    const marker = newMarker()
    const res = await exports.default.fetch(`https://gw.example${ADMIN_PATH}/consumers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-marker': marker, ...headers },
      body: '{"username":"mallory"}',
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: 401, code, request_id: res.headers.get('x-request-id') })
    expect(JSON.stringify(body)).not.toContain(env.ADMIN_TOKEN!)
    expect((await env.KEYSET.list({ prefix: 'registry/' })).keys).toEqual([])
    expect(await originSaw(marker)).toBe(false)
  })

  it('refuses an IAM key that is not an admin (403 insufficient_scope)', async () => {
    const res = await admin('GET', '/routes', undefined, { 'x-auth-token': secrets.orgWide })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toBe(`${REALM}, error="insufficient_scope", error_description="The credential does not allow this call.", scope="IAMManager"`)
    expect(((await res.json()) as { code: string }).code).toBe('permission_denied')
  })
})

describe('paths the admin API does not have', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', ''],
    ['GET', '/'],
    ['POST', '/consumers/alice/jwt/x/y'],
    ['DELETE', '/routes'],
    ['GET', '/status/more'],
  ])('answers %s %s with 404 not_found, never the gateway', async (method, path) => {
    // A catch-all route: anything falling through to the gateway would reach its origin.
    const source = await testKeySet()
    await seedKeySet({ ...source, routes: [...source.routes, { id: 'everything', paths: ['/'], target: { ...source.routes[0]!.target, privacy: 'public' } }] })
    const marker = newMarker()
    const res = await admin(method, path, undefined, { 'x-test-marker': marker })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 404, code: 'not_found', request_id: res.headers.get('x-request-id') })
    expect(await originSaw(marker)).toBe(false)
  })

  it.each(['/__edgegw/%61dmin/v1/nope', '/__edgegw/admin/v1/%6eope', '/__edgegw/admin/v1/nope/'])('answers %s, an admin path however spelt, with the admin API’s 404', async (path) => {
    const res = await exports.default.fetch(`https://gw.example${path}`, { headers: { 'x-auth-token': env.ADMIN_TOKEN! } })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'not_found' })
  })

  it('takes a known path with a trailing slash as that path (as Kong’s Admin API does), never as the gateway’s', async () => {
    const [plain, slashed] = await Promise.all(
      ['', '/'].map((end) => exports.default.fetch(`https://gw.example${ADMIN_PATH}/routes${end}`, { headers: { 'x-auth-token': env.ADMIN_TOKEN! } })),
    )
    expect(slashed!.status).toBe(200)
    expect(await slashed!.json()).toEqual(await plain!.json())
  })

  it('asks for the credential before saying a path does not exist', async () => {
    const res = await exports.default.fetch(`https://gw.example${ADMIN_PATH}/nope`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(REALM)
  })
})

describe('an unexpected failure', () => {
  it('answers 500 problem+json internal_error with the request id, and logs one line without stack or request material', async () => {
    await env.KEYSET.put(registryKeys.routes, '{"not": "a route table"}')
    const { result: res, lines, raw } = await logged(() => admin('GET', '/routes', undefined, { 'x-secret-header': 'do-not-log-me' }))
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const requestId = res.headers.get('x-request-id')
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toEqual({ type: 'urn:edge-auth-gateway:problem:internal_error', title: 'internal_error', status: 500, code: 'internal_error', detail: 'The admin API failed unexpectedly; the request id is in the log.', request_id: requestId })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ type: 'error', request_id: requestId, method: 'GET', path: `${ADMIN_PATH}/routes`, error: 'Error' })
    expect(raw[0]).not.toMatch(/\n|\bat \w|stack/)
    expect(raw[0]).not.toContain(env.ADMIN_TOKEN!)
    expect(raw[0]).not.toContain('do-not-log-me')
  })
})

describe('body size', () => {
  /** A consumer body of exactly `bytes` bytes (padded with JSON whitespace). */
  const padded = (bytes: number) => {
    const text = JSON.stringify({ username: 'alice' })
    return `${text.slice(0, -1)}${' '.repeat(bytes - text.length)}}`
  }

  it.each([
    ['POST /consumers over 64 KiB, with Content-Length', 'POST', '/consumers', () => padded(64 * 1024 + 1), false],
    ['POST /consumers over 64 KiB, streamed without Content-Length', 'POST', '/consumers', () => padded(64 * 1024 + 1), true],
    ['PUT /routes over 1 MiB', 'PUT', '/routes', () => JSON.stringify({ routes: [], pad: 'x'.repeat(1024 * 1024) }), false],
  ])('refuses %s with 413 body_too_large, reading no further', async (_, method, path, body, streamed) => {
    const text = body()
    const init: RequestInit = { method, headers: { 'x-auth-token': env.ADMIN_TOKEN!, 'content-type': 'application/json' } }
    if (streamed) {
      const bytes = new TextEncoder().encode(text)
      init.body = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.subarray(i, i + 8192))
          controller.close()
        },
      })
      ;(init as { duplex?: string }).duplex = 'half'
    } else init.body = text
    const res = await exports.default.fetch(`https://gw.example${ADMIN_PATH}${path}`, init)
    expect(res.status).toBe(413)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 413, code: 'body_too_large', detail: expect.stringContaining(path === '/routes' ? '1048576 bytes' : '65536 bytes') })
    expect((await env.KEYSET.list({ prefix: 'registry/' })).keys).toEqual([])
  })

  it('takes bodies just under the caps', async () => {
    expect((await adminJson('POST', '/consumers', padded(64 * 1024))).status).toBe(201)
    const target = (await testKeySet()).routes[0]!.target
    const routes = Array.from({ length: 2900 }, (_, i) => ({ id: `r-${i}`, paths: [`/r/${i}/${'p'.repeat(150)}`], target }))
    const text = JSON.stringify({ routes })
    expect(text.length).toBeGreaterThan(900 * 1024)
    expect(text.length).toBeLessThan(1024 * 1024)
    expect((await adminJson('PUT', '/routes', text)).status).toBe(200)
  })
})

describe('path ids', () => {
  it.each([
    ['DELETE', '/api-keys/not-an-access-key/capture', 'access key: expected SCW followed by 17 capital letters or digits'],
    ['DELETE', '/api-keys/scw00000000000000001/capture', 'access key: expected SCW followed by 17 capital letters or digits'],
    ['GET', `/consumers/${'u'.repeat(129)}`, 'consumer: an id, or a username of 1–128 characters without control characters'],
    ['DELETE', '/consumers/al%0Aice', 'consumer: an id, or a username of 1–128 characters without control characters'],
    ['PUT', '/consumers/%00/groups', 'consumer: an id, or a username of 1–128 characters without control characters'],
    ['GET', `/consumers/alice/jwt/${'k'.repeat(257)}`, 'credential: an id, or a key of 1–256 characters without control characters'],
    ['DELETE', '/consumers/alice/jwt/k%07', 'credential: an id, or a key of 1–256 characters without control characters'],
    ['DELETE', '/oidc-issuers/-bad', 'oidc issuer: letters, digits and . _ ~ - (starting with a letter or digit), at most 128 characters'],
  ])('refuses %s %s with 400 invalid_id', async (method, path, detail) => {
    await adminJson('POST', '/consumers', { username: 'alice' })
    const res = await adminJson(method, path, method === 'PUT' ? { groups: [] } : undefined)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.body).toMatchObject({ code: 'invalid_id', detail })
  })
})

describe('the audit log', () => {
  // Each change starts a sync run (a Workflow) that the next step waits for: slower than one in-process sync.
  it('writes one line per change: who (never the secret), what, which, and the request id', { timeout: 30_000 }, async () => {
    const { publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 })
    const namespacePem = pkcs1PublicPem(await exportJWK(publicKey))
    await new Registry(env.KEYSET).captureKey('SCW00000000000000001', { digest: 'a'.repeat(64), capturedAt: new Date().toISOString(), via: 'register' })
    const steps: { method: string; path: string; body?: unknown; action: string; target: (res: { body: any }) => string }[] = [
      { method: 'PUT', path: '/routes', body: { routes: [] }, action: 'routes.replace', target: () => 'routes' },
      { method: 'POST', path: '/consumers', body: { username: 'alice' }, action: 'consumer.create', target: (res) => res.body.id },
      { method: 'PUT', path: '/consumers/alice/groups', body: { groups: ['ops'] }, action: 'consumer.groups.replace', target: (res) => res.body.id },
      { method: 'POST', path: '/consumers/alice/jwt', body: { algorithm: 'HS256' }, action: 'jwt_credential.create', target: (res) => res.body.id },
      { method: 'PUT', path: '/oidc-issuers/corp', body: { issuer: 'https://login.example.com/', audiences: ['gw'], jwks_uri: `${env.JWKS_SERVER_URL}/jwks/audit` }, action: 'oidc_issuer.create', target: () => 'corp' },
      { method: 'DELETE', path: '/oidc-issuers/corp', action: 'oidc_issuer.delete', target: () => 'corp' },
      { method: 'POST', path: '/legacy-namespace-keys', body: { product: 'functions', namespace_id: 'a1111111-1111-4111-8111-111111111111', public_key: namespacePem }, action: 'legacy_namespace_key.register', target: () => 'a1111111-1111-4111-8111-111111111111' },
      { method: 'DELETE', path: '/api-keys/SCW00000000000000001/capture', action: 'api_key.capture.delete', target: () => 'SCW00000000000000001' },
      { method: 'DELETE', path: '/consumers/alice', action: 'consumer.delete', target: () => '' },
      { method: 'POST', path: '/sync', action: 'sync.run', target: () => 'keyset' },
    ]
    let aliceId = ''
    for (const step of steps) {
      await settled()
      const { result: res, lines, raw } = await logged(() => adminJson(step.method, step.path, step.body))
      expect(res.status, `${step.method} ${step.path}`).toBeLessThan(300)
      if (step.action === 'consumer.create') aliceId = res.body.id
      const [line, ...more] = audits(lines)
      expect(more, `${step.method} ${step.path}`).toEqual([])
      expect(line, `${step.method} ${step.path}`).toEqual({
        type: 'audit',
        actor: { kind: 'admin-token', id: 'ADMIN_TOKEN' },
        action: step.action,
        target: step.action === 'consumer.delete' ? aliceId : step.target(res),
        request_id: res.headers.get('x-request-id'),
        ...(step.action === 'legacy_namespace_key.register' ? { replaced: false } : {}),
      })
      for (const text of raw) {
        expect(text).not.toContain(env.ADMIN_TOKEN!)
        if (res.body?.secret) expect(text).not.toContain(res.body.secret)
      }
    }
  })

  it('writes nothing for reads and for refused changes', async () => {
    await adminJson('POST', '/consumers', { username: 'alice' })
    await settled()
    const { lines } = await logged(async () => {
      await adminJson('GET', '/consumers/alice')
      await adminJson('GET', '/routes')
      await adminJson('GET', '/status')
      await adminJson('POST', '/consumers', { username: 'alice' }) // 409
      await adminJson('POST', '/consumers', { usrname: 'bob' }) // 400
      await adminJson('DELETE', '/consumers/nobody') // 404
    })
    expect(audits(lines)).toEqual([])
  })
})
