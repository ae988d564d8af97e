/**
 * The `edgegw` CLI as a process against the running local stack: the serverless
 * gateway's own walkthrough (route add --jwt, consumer add, jwt add, a token
 * signed by a client library with the printed values), key rotation with an
 * overlap, revocation, jwt rotation, `--json` of every list command, exit codes.
 */
import { Validator } from '@seriousme/openapi-schema-validator'
import jwt from 'jsonwebtoken'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { edgegw, edgegwOk, tableRows } from './cli-support.js'
import { pollUntil, startTestStack, through, type PlatformEcho, type TestStack } from './support.js'

const sh = promisify(execFile)
let t: TestStack

beforeAll(async () => {
  // A 1 s memory TTL: a change the CLI synced is served a second later, not 30 s.
  t = await startTestStack({ memoryTtlSeconds: 1 })
})
afterAll(() => t?.cleanup())

/** A call through the gateway with `Authorization: Bearer`. */
async function withBearer(path: string, token: string) {
  const res = await fetch(`${t.stack.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

const until = <T extends { status: number }>(probe: () => Promise<T>, status: number) => pollUntil(probe, (r) => r.status === status, { timeoutMs: 5_000, intervalMs: 100 })

describe("the serverless gateway's walkthrough, with edgegw", () => {
  it('route add --jwt; 401 without a token; consumer add; jwt add prints ALGORITHM SECRET ISS; a token signed with them by jsonwebtoken gets 200; jwt ls lists it', async () => {
    const added = await edgegwOk(t.stack, ['route', 'add', '/app', '--target', 'function:hello', '--jwt'])
    expect(tableRows(added)).toEqual([
      ['ID', 'RELATIVE URL', 'TARGET', 'HTTP_METHODS', 'AUTH'],
      ['app', '/app', 'function:hello', 'All', 'consumer-jwt'],
    ])

    const anonymous = await until(() => through(t.stack, '/app'), 401)
    expect(anonymous.value.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(JSON.parse(anonymous.value.text)).toMatchObject({ status: 401, code: 'credentials_missing' })

    await edgegwOk(t.stack, ['consumer', 'add', 'my-app'])
    const printed = await edgegw(t.stack, ['jwt', 'add', 'my-app'])
    expect(printed.code).toBe(0)
    const rows = tableRows(printed.stdout)
    expect(rows[0]).toEqual(['ALGORITHM', 'SECRET', 'ISS'])
    const [algorithm, secret, iss] = rows[1]!
    expect(algorithm).toBe('HS256')
    // A printable secret of at least 256 bits: 43 base64url characters.
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43,}$/)
    expect(printed.stderr).toContain('The secret is shown once')

    // As the seed's Python client does: jwt.encode({"some": "payload", "iss": ISS}, SECRET), no iat.
    const token = jwt.sign({ some: 'payload', iss }, secret!, { algorithm: 'HS256', noTimestamp: true })
    const allowed = await until(() => withBearer('/app', token), 200)
    const echo = JSON.parse(allowed.value.text) as PlatformEcho
    expect(echo.resource.name).toBe('hello')
    expect(echo.headers).toMatchObject({ 'x-consumer-username': 'my-app', 'x-credential-identifier': iss, 'x-auth-method': 'consumer-jwt' })
    expect(allowed.value.text).not.toContain(token)

    // A token signed with the secret's base64url decoding (what the gateway used to expect) is refused.
    const decoded = Buffer.from(secret!, 'base64url')
    expect((await withBearer('/app', jwt.sign({ some: 'payload', iss }, decoded, { algorithm: 'HS256', noTimestamp: true }))).status).toBe(401)

    const listed = await edgegwOk(t.stack, ['jwt', 'ls', 'my-app'])
    expect(tableRows(listed)[0]).toEqual(['ALGORITHM', 'SECRET', 'ISS', 'ID', 'EXPIRES'])
    expect(tableRows(listed)[1]).toEqual(['HS256', '(shown once, at creation)', iss, expect.any(String), 'never'])
    expect(listed).not.toContain(secret)
    const asJson = JSON.parse(await edgegwOk(t.stack, ['jwt', 'ls', 'my-app', '--json'])) as Record<string, unknown>[]
    expect(asJson).toEqual([expect.objectContaining({ key: iss, algorithm: 'HS256', expires_at: null })])
    expect(JSON.stringify(asJson)).not.toContain(secret)
    expect(asJson[0]).not.toHaveProperty('secret')
  })
})

describe('IAM API keys', () => {
  it('key rotate --overlap: both keys work during the overlap, only the new one after (the old one 401 api_key_expired)', async () => {
    const minted = JSON.parse(await edgegwOk(t.stack, ['key', 'mint', 'edgegw-demo', '--kind', 'ci', '--json'])) as { access_key: string; secret_key: string; kind: string }
    expect(minted.kind).toBe('ci')
    await until(() => through(t.stack, '/hello', minted.secret_key), 200)

    // The overlap is short enough for a test, long enough for the calls below on a busy machine.
    const rotated = JSON.parse(await edgegwOk(t.stack, ['key', 'rotate', minted.access_key, '--overlap', '20s', '--json'])) as {
      access_key: string
      secret_key: string
      kind: string
      previous: { access_key: string; expires_at: string }
    }
    expect(rotated.kind).toBe('ci')
    expect(rotated.access_key).not.toBe(minted.access_key)
    expect(rotated.previous.access_key).toBe(minted.access_key)
    const overlapEnds = Date.parse(rotated.previous.expires_at)

    await until(() => through(t.stack, '/hello', rotated.secret_key), 200)
    expect((await through(t.stack, '/hello', minted.secret_key)).status).toBe(200)
    expect(Date.now()).toBeLessThan(overlapEnds)

    const listed = JSON.parse(await edgegwOk(t.stack, ['key', 'ls', '--application', 'edgegw-demo', '--json'])) as { access_key: string; expires_at: string | null; captured: boolean; kind: string | null }[]
    expect(listed.find((k) => k.access_key === minted.access_key)).toMatchObject({ expires_at: rotated.previous.expires_at, captured: true, kind: 'ci' })
    expect(listed.find((k) => k.access_key === rotated.access_key)).toMatchObject({ expires_at: null, captured: true, kind: 'ci' })

    const after = await pollUntil(() => through(t.stack, '/hello', minted.secret_key), (r) => r.status !== 200, { timeoutMs: overlapEnds - Date.now() + 5_000, intervalMs: 250 })
    expect(Date.now()).toBeGreaterThanOrEqual(overlapEnds)
    expect(after.value.status).toBe(401)
    expect(JSON.parse(after.value.text)).toMatchObject({ code: 'api_key_expired' })
    expect(after.value.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The API key has expired."')
    expect((await through(t.stack, '/hello', rotated.secret_key)).status).toBe(200)
  })

  it('key revoke: deleted in IAM and refused at the edge without waiting for the Cron', async () => {
    const minted = JSON.parse(await edgegwOk(t.stack, ['key', 'mint', 'edgegw-demo', '--json'])) as { access_key: string; secret_key: string }
    await until(() => through(t.stack, '/hello', minted.secret_key), 200)
    const revoked = await edgegw(t.stack, ['key', 'revoke', minted.access_key])
    expect(revoked).toMatchObject({ code: 2, stdout: '' })
    expect(revoked.stderr).toMatch(/pass --yes/)
    expect((await through(t.stack, '/hello', minted.secret_key)).status).toBe(200)

    const output = await edgegwOk(t.stack, ['key', 'revoke', minted.access_key, '--yes'])
    expect(output).toBe(`Key ${minted.access_key} deleted in IAM and removed from the key set.\n`)
    // No Cron runs in this stack: only the sync the revocation ran can refuse it; then the 1 s memory TTL.
    const refused = await pollUntil(() => through(t.stack, '/hello', minted.secret_key), (r) => r.status !== 200, { timeoutMs: 3_000, intervalMs: 100 })
    expect(refused.value.status).toBe(401)
    expect(JSON.parse(refused.value.text)).toMatchObject({ code: 'api_key_unknown' })
    const listed = JSON.parse(await edgegwOk(t.stack, ['key', 'ls', '--json'])) as { access_key: string }[]
    expect(listed.map((k) => k.access_key)).not.toContain(minted.access_key)
  })
})

describe('JWT credentials', () => {
  it('jwt rotate --overlap: the old credential works during the overlap, and is refused by the first sync after it', async () => {
    await edgegwOk(t.stack, ['consumer', 'add', 'rotating-app'])
    const first = JSON.parse(await edgegwOk(t.stack, ['jwt', 'add', 'rotating-app', '--json'])) as { key: string; secret: string }
    const rotated = JSON.parse(await edgegwOk(t.stack, ['jwt', 'rotate', 'rotating-app', first.key, '--overlap', '10s', '--json'])) as {
      key: string
      secret: string
      previous: { key: string; expires_at: string }
    }
    expect(rotated.key).not.toBe(first.key)
    expect(rotated.previous.key).toBe(first.key)
    const oldToken = jwt.sign({ iss: first.key }, first.secret, { noTimestamp: true })
    const newToken = jwt.sign({ iss: rotated.key }, rotated.secret, { noTimestamp: true })
    await until(() => withBearer('/app', newToken), 200)
    expect((await withBearer('/app', oldToken)).status).toBe(200)

    const listed = JSON.parse(await edgegwOk(t.stack, ['jwt', 'ls', 'rotating-app', '--json'])) as { key: string; expires_at: string | null }[]
    expect(listed.map((c) => [c.key, c.expires_at]).sort()).toEqual([[first.key, rotated.previous.expires_at], [rotated.key, null]].sort())

    const overlapEnds = Date.parse(rotated.previous.expires_at)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, overlapEnds - Date.now() + 100)))
    // The Cron's job; this stack runs none.
    await edgegwOk(t.stack, ['sync'])
    const refused = await until(() => withBearer('/app', oldToken), 401)
    expect(JSON.parse(refused.value.text)).toMatchObject({ code: 'credential_unknown' })
    expect((await withBearer('/app', newToken)).status).toBe(200)
  })

  it('jwt update --new-secret (PATCH): tokens signed with the old secret are refused, with the new one allowed', async () => {
    await edgegwOk(t.stack, ['consumer', 'add', 'patched-app'])
    const created = JSON.parse(await edgegwOk(t.stack, ['jwt', 'add', 'patched-app', '--json'])) as { key: string; secret: string }
    const before = jwt.sign({ iss: created.key }, created.secret, { noTimestamp: true })
    await until(() => withBearer('/app', before), 200)
    const updated = JSON.parse(await edgegwOk(t.stack, ['jwt', 'update', 'patched-app', created.key, '--new-secret', '--json'])) as { key: string; secret: string }
    expect(updated.key).toBe(created.key)
    expect(updated.secret).not.toBe(created.secret)
    const after = jwt.sign({ iss: created.key }, updated.secret, { noTimestamp: true })
    await until(() => withBearer('/app', after), 200)
    const refused = await withBearer('/app', before)
    expect(refused.status).toBe(401)
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'token_invalid' })
  })
})

describe('--json of every list command, parsed', () => {
  it.each([
    [['route', 'ls'], (list: any[]) => expect(list.map((r) => r.id)).toEqual(expect.arrayContaining(['hello', 'echo', 'app']))],
    [['consumer', 'ls'], (list: any[]) => expect(list.map((c) => c.username)).toEqual(expect.arrayContaining(['my-app']))],
    [['jwt', 'ls', 'my-app'], (list: any[]) => expect(list).toHaveLength(1)],
    [['oidc', 'ls'], (list: any[]) => expect(list).toEqual([])],
    [['key', 'ls'], (list: any[]) => expect(list.map((k) => k.access_key)).toContain(t.stack.secrets.apiKeys.demo!.accessKey)],
  ])('%j', async (args, check) => {
    const run = await edgegw(t.stack, [...args, '--json'])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    const list = JSON.parse(run.stdout) as unknown
    expect(Array.isArray(list)).toBe(true)
    check(list as any[])
    for (const secret of [t.stack.secrets.adminToken, t.stack.secrets.apiKeys.demo!.secretKey]) expect(run.stdout).not.toContain(secret)
  })

  it('route show --json and status --json', async () => {
    expect(JSON.parse(await edgegwOk(t.stack, ['route', 'show', 'app', '--json']))).toMatchObject({ id: 'app', paths: ['/app'], target: { kind: 'function', resourceName: 'hello' }, auth: { accept: ['consumer-jwt'] } })
    const status = JSON.parse(await edgegwOk(t.stack, ['status', '--json'])) as { keySet: { snapshotId: string }; sync: { counts: Record<string, number> } }
    expect(status.keySet.snapshotId).toMatch(/^[0-9a-f]{32}$/)
    expect(status.sync.counts.routes).toBeGreaterThanOrEqual(3)
  })
})

describe('exit codes', () => {
  it.each([
    [['consumer', 'rm', 'nobody', '--yes'], 1, /^edgegw: consumer_not_found: no consumer has this id or username\n$/],
    [['route', 'add', '/nowhere', '--target', 'function:no-such-function'], 1, /^edgegw: resource_not_found: no function "no-such-function"/],
    [['route', 'show', 'nope'], 1, /^edgegw: route_not_found: /],
    [['key', 'rotate', 'SCW00000000000000000', '--overlap', '1d'], 1, /^edgegw: (upstream_refused|api_key_not_found): /],
    [['jwt', 'add'], 2, /missing required argument 'consumer'/],
    [['key', 'mint', 'edgegw-demo', '--expires', 'soon'], 2, /--expires: "soon" is not a duration/],
  ])('%j → %i', async (args, code, stderr) => {
    const run = await edgegw(t.stack, args)
    expect(run.code).toBe(code)
    expect(run.stderr).toMatch(stderr)
  })

  it('a route id that exists: 1, route_exists, and the route is unchanged', async () => {
    await edgegwOk(t.stack, ['route', 'add', '/twice', '--target', 'container:echo', '--api-key'])
    const again = await edgegw(t.stack, ['route', 'add', '/twice', '--target', 'function:hello'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^edgegw: route_exists: id: a route with this id exists/)
    expect(JSON.parse(await edgegwOk(t.stack, ['route', 'show', 'twice', '--json']))).toMatchObject({ target: { kind: 'container', resourceName: 'echo' } })
  })

  it('a wrong admin token: 1, the gateway\'s code, and the token is nowhere in the output', async () => {
    const wrong = 'not-the-admin-token-3b1f0e'
    const run = await edgegw(t.stack, ['route', 'ls'], { env: { EDGEGW_ADMIN_TOKEN: wrong } })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^edgegw: token_invalid: .*; check the admin token \(--token, EDGEGW_ADMIN_TOKEN or SCW_SECRET_KEY\)\n$/)
    expect(run.stdout + run.stderr).not.toContain(wrong)
  })

  it('an IAM key secret whose bearer holds IAMManager works as the admin credential, from SCW_SECRET_KEY; one without is refused (1, permission_denied)', async () => {
    // Minted through the gateway (which captures its digest) for the application holding IAMManager.
    const manager = JSON.parse(await edgegwOk(t.stack, ['key', 'mint', t.stack.fixture.applications.gateway.name, '--json'])) as { secret_key: string }
    // Synced by key mint; served once the gateway's memory (1 s here) has refreshed.
    const { value: run } = await pollUntil(() => edgegw(t.stack, ['route', 'ls', '--json'], { env: { EDGEGW_ADMIN_TOKEN: undefined, SCW_SECRET_KEY: manager.secret_key } }), (r) => r.code === 0, { timeoutMs: 5_000, intervalMs: 250 })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'hello' })]))
    const demo = await edgegw(t.stack, ['route', 'ls'], { env: { EDGEGW_ADMIN_TOKEN: undefined, SCW_SECRET_KEY: t.stack.secrets.apiKeys.demo!.secretKey } })
    expect(demo.code).toBe(1)
    expect(demo.stderr).toMatch(/^edgegw: permission_denied: /)
    expect(demo.stdout + demo.stderr).not.toContain(t.stack.secrets.apiKeys.demo!.secretKey)
  })
})

describe('npm start', () => {
  it('prints the line that points edgegw at the stack, and it works as printed', async () => {
    expect(t.stack.edgegwEnv).toBe(`export EDGEGW_URL=${t.stack.gatewayUrl} EDGEGW_ADMIN_TOKEN=${t.stack.secrets.adminToken}`)
    const { stdout } = await sh('sh', ['-c', `${t.stack.edgegwEnv} && exec "${process.execPath}" bin/edgegw.js status --json`], { env: { PATH: process.env.PATH } })
    expect(JSON.parse(stdout)).toHaveProperty('keySet.snapshotId')
  })

  it('doctor: one line per check, all ok on the local stack', async () => {
    const run = await edgegw(t.stack, ['doctor'])
    expect(run.code, run.stdout).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines.every((line) => line.startsWith('ok  '))).toBe(true)
    expect(lines.map((line) => line.slice(6).split(/ {2,}/)[0])).toEqual(expect.arrayContaining(['admin credential', 'settings', 'secrets', 'IAM reachable', 'key set fresh', 'Cron']))
  })
})

describe("the admin API's OpenAPI description", () => {
  it('GET /openapi.json of the running gateway is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const res = await fetch(`${t.stack.adminUrl}/openapi.json`, { headers: { 'x-auth-token': t.stack.secrets.adminToken } })
    expect(res.status).toBe(200)
    const document = (await res.json()) as { openapi: string; servers: { url: string }[] }
    expect(document.openapi).toBe('3.1.0')
    expect(document.servers).toEqual([{ url: t.stack.adminUrl }])
    const validator = new Validator()
    const result = await validator.validate(document as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })
})
