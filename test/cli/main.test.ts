import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildProgram } from '../../src/cli/program.js'
import { adminPeer, json, run } from './support.js'

const TOKEN = 'cli-test-admin-token-that-must-never-be-printed'
const env = (url: string) => ({ EDGEGW_URL: url, EDGEGW_ADMIN_TOKEN: TOKEN })

/** Every command path of the program: `['route', 'add']`, … */
function commandPaths(): string[][] {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin, env: {}, now: Date.now }
  const paths: string[][] = []
  const walk = (command: ReturnType<typeof buildProgram>, prefix: string[]) => {
    for (const sub of command.commands) {
      paths.push([...prefix, sub.name()])
      walk(sub, [...prefix, sub.name()])
    }
  }
  walk(buildProgram(io), [])
  return paths
}

describe('usage: exit 2, nothing sent', () => {
  it.each([
    [['nope'], /unknown command 'nope'/],
    [['route'], /Usage: edgegw route/],
    [['route', 'add', '--target', 'function:hello'], /missing required argument 'path'/],
    [['route', 'add', '/app'], /required option '--target <target>' not specified/],
    [['route', 'ls', 'extra'], /too many arguments/],
    [['key', 'rotate', 'SCW0123456789ABCDEFG'], /required option '--overlap <duration>'/],
    [['route', 'ls', '--colour'], /unknown option '--colour'/],
  ])('%j', async (argv, message) => {
    const result = await run(argv, { env: env('http://127.0.0.1:9') })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('no admin credential anywhere: exit 2 with where to set one', async () => {
    const result = await run(['route', 'ls'], { env: {} })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/no admin credential: pass --token, or set EDGEGW_ADMIN_TOKEN .* or SCW_SECRET_KEY/)
  })

  it.each([
    [['key', 'rotate', 'SCW0123456789ABCDEFG', '--overlap', '7 days'], /--overlap: "7 days" is not a duration/],
    [['key', 'rotate', 'not-a-key', '--overlap', '7d'], /<access key>: expected SCW/],
    [['key', 'mint', 'app', '--kind', 'robot'], /--kind: "robot" is not one of personal, ci, service/],
    [['jwt', 'add', 'my-app', '--algorithm', 'none'], /--algorithm: "none" is not one of/],
    [['jwt', 'add', 'my-app', '--algorithm', 'ES256'], /--algorithm ES256: needs --public-key/],
    [['route', 'add', 'app', '--target', 'function:hello'], /<path>: must start with \//],
    [['key', 'revoke', 'SCW0123456789ABCDEFG'], /pass --yes to confirm when not running in a terminal/],
    [['key', 'register', 'SCW0123456789ABCDEFG'], /the secret key: nothing on stdin/],
  ])('%j', async (argv, message) => {
    const peer = await adminPeer((_req, res) => json(res, 500, {}))
    try {
      const result = await run(argv, { env: env(peer.url) })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(peer.received).toEqual([])
    } finally {
      await peer.close()
    }
  })
})

describe('--help on every level, with examples', () => {
  it('the program', async () => {
    const result = await run(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Examples:\n {2}\$ edgegw route add \/app --target function:hello --jwt/)
    expect(result.stdout).toMatch(/Exit status: 0 on success, 1 when the gateway refused or failed .*, 2 on bad usage/)
  })

  it.each(commandPaths().filter((path) => path[path.length - 1] !== 'help'))('%j', async (...path) => {
    const result = await run([...path, '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^Usage: edgegw ${path.join(' ')}`))
    expect(result.stdout).toMatch(/Examples:\n {2}\$ .*edgegw /)
  })
})

describe('the gateway refuses or fails: exit 1, its code and detail, never the token', () => {
  let peer: Awaited<ReturnType<typeof adminPeer>>
  beforeAll(async () => {
    peer = await adminPeer((req, res) => {
      if (req.url.startsWith('/__edgegw/admin/v1/consumers/ghost')) {
        return json(res, 404, { type: 'urn:edge-auth-gateway:problem:consumer_not_found', title: 'consumer_not_found', status: 404, code: 'consumer_not_found', detail: 'no consumer has this id or username' }, 'application/problem+json')
      }
      if (req.url === '/__edgegw/admin/v1/routes') return json(res, 401, { code: 'credentials_missing', detail: 'no credential' }, 'application/problem+json')
      if (req.url === '/__edgegw/admin/v1/status') {
        res.writeHead(200, { 'content-type': 'text/html' })
        return res.end('<html>not a gateway</html>')
      }
      json(res, 500, { oops: true })
    })
  })
  afterAll(() => peer.close())

  it('a problem: its code and detail on stderr', async () => {
    const result = await run(['jwt', 'ls', 'ghost'], { env: env(peer.url) })
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'edgegw: consumer_not_found: no consumer has this id or username\n' })
  })

  it('401: the code, and where the credential comes from; the token itself is not shown', async () => {
    const result = await run(['route', 'ls', '--token', TOKEN], { env: { EDGEGW_URL: peer.url } })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^edgegw: credentials_missing: no credential; check the admin token/)
    expect(result.stderr + result.stdout).not.toContain(TOKEN)
  })

  it('the token is sent as X-Auth-Token', () => {
    expect(peer.received.some((r) => r.headers['x-auth-token'] === TOKEN)).toBe(true)
  })

  it('an answer that is not JSON', async () => {
    const result = await run(['status'], { env: env(peer.url) })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^edgegw: invalid_response: GET \/status answered 200 with a body that is not JSON/)
  })

  it('an error without a problem document: http_<status>', async () => {
    const result = await run(['oidc', 'ls'], { env: env(peer.url) })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^edgegw: http_500: /)
  })

  it('an unreachable gateway, with user information in the URL: neither it nor the token is shown', async () => {
    const result = await run(['route', 'ls', '--url', 'http://user:pa55word@127.0.0.1:59999/'], { env: { EDGEGW_ADMIN_TOKEN: TOKEN } })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('edgegw: unreachable: cannot reach the admin API at http://127.0.0.1:59999/__edgegw/admin/v1 (ECONNREFUSED); check --url / EDGEGW_URL\n')
  })
})

describe('where to talk and as whom', () => {
  it.each([
    [{ EDGEGW_ADMIN_TOKEN: 'from-edgegw', SCW_SECRET_KEY: 'from-scw' }, [], 'from-edgegw'],
    [{ SCW_SECRET_KEY: 'from-scw' }, [], 'from-scw'],
    [{ EDGEGW_ADMIN_TOKEN: 'from-edgegw', SCW_SECRET_KEY: 'from-scw' }, ['--token', 'from-flag'], 'from-flag'],
  ])('env %j, flags %j → %s', async (tokens, flags, expected) => {
    const peer = await adminPeer((_req, res) => json(res, 200, { routes: [] }))
    try {
      const result = await run(['route', 'ls', ...flags], { env: { EDGEGW_URL: peer.url, ...tokens } })
      expect(result.code).toBe(0)
      expect(peer.received.map((r) => r.headers['x-auth-token'])).toEqual([expected])
    } finally {
      await peer.close()
    }
  })

  it('--url wins over EDGEGW_URL; the admin API\'s own URL works too', async () => {
    const peer = await adminPeer((_req, res) => json(res, 200, { routes: [] }))
    try {
      expect((await run(['route', 'ls', '--url', `${peer.url}/__edgegw/admin/v1/`], { env: { EDGEGW_URL: 'http://127.0.0.1:9', EDGEGW_ADMIN_TOKEN: 't' } })).code).toBe(0)
      expect(peer.received.map((r) => r.url)).toEqual(['/__edgegw/admin/v1/routes'])
    } finally {
      await peer.close()
    }
  })
})

describe('progress on stderr only when it is a terminal', () => {
  const pages = (req: { url: string }, res: Parameters<typeof json>[0]) => {
    const page = Number(new URL(req.url, 'http://x').searchParams.get('page'))
    const key = (n: number) => ({ access_key: `SCW${String(n).padStart(17, '0')}`, bearer: { type: 'application', id: 'a', name: 'ci' }, kind: 'ci', description: '', created_at: null, expires_at: null, captured: true })
    json(res, 200, { data: page <= 2 ? [key(page * 2 - 1), key(page * 2)] : [], total_count: 4 })
  }

  it('not a terminal: nothing on stderr, and --json is the parsed list of every page', async () => {
    const peer = await adminPeer(pages)
    try {
      const result = await run(['key', 'ls', '--json'], { env: env(peer.url), stderrIsTTY: false })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      expect(JSON.parse(result.stdout).map((k: { access_key: string }) => k.access_key)).toEqual(['SCW00000000000000001', 'SCW00000000000000002', 'SCW00000000000000003', 'SCW00000000000000004'])
    } finally {
      await peer.close()
    }
  })

  it('a terminal: a progress line, cleared at the end', async () => {
    const peer = await adminPeer(pages)
    try {
      const result = await run(['key', 'ls'], { env: env(peer.url), stderrIsTTY: true })
      expect(result.code).toBe(0)
      expect(result.stderr).toContain('listing API keys: 2/4')
      expect(result.stderr).toContain('listing API keys: 4/4')
      expect(result.stderr.endsWith('\r\x1b[2K')).toBe(true)
      expect(result.stdout.split('\n')[0]).toBe('ACCESS KEY            BEARER          KIND  EXPIRES  CAPTURED')
    } finally {
      await peer.close()
    }
  })
})

describe('--secret-file', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgegw-cli-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const created = { id: 'c1', consumer: { id: 'u1' }, key: 'iss-1', algorithm: 'HS256', created_at: 'now', secret: 'printable-secret-string-of-43-characters-xx' }

  it('writes the secret alone, mode 0600, and never prints it', async () => {
    const peer = await adminPeer((req, res) => (req.url.endsWith('/sync') ? json(res, 200, { ok: true, changed: true, status: {} }) : json(res, 201, created)))
    const path = join(dir, 'a.secret')
    try {
      const result = await run(['jwt', 'add', 'my-app', '--secret-file', path], { env: env(peer.url) })
      expect(result.code).toBe(0)
      expect(await readFile(path, 'utf8')).toBe(created.secret)
      expect((await stat(path)).mode & 0o777).toBe(0o600)
      expect(result.stdout + result.stderr).not.toContain(created.secret)
      expect(result.stdout).toMatch(new RegExp(`HS256 +\\(written to ${path.replace(/[/.]/g, '\\$&')}\\) +iss-1`))
      const asJson = await run(['jwt', 'add', 'my-app', '--secret-file', join(dir, 'b.secret'), '--json', '--no-sync'], { env: env(peer.url) })
      expect(JSON.parse(asJson.stdout)).toEqual({ id: 'c1', consumer: { id: 'u1' }, key: 'iss-1', algorithm: 'HS256', created_at: 'now', secret_file: join(dir, 'b.secret') })
    } finally {
      await peer.close()
    }
  })

  it('an existing file: exit 2 before the gateway is asked, the file untouched', async () => {
    const peer = await adminPeer((_req, res) => json(res, 201, created))
    const path = join(dir, 'taken.secret')
    await writeFile(path, 'keep me')
    try {
      const result = await run(['jwt', 'add', 'my-app', '--secret-file', path], { env: env(peer.url) })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/exists; secrets are never overwritten/)
      expect(peer.received).toEqual([])
      expect(await readFile(path, 'utf8')).toBe('keep me')
    } finally {
      await peer.close()
    }
  })

  it('the gateway refuses: no file is left behind', async () => {
    const peer = await adminPeer((_req, res) => json(res, 404, { code: 'consumer_not_found', detail: 'no consumer has this id or username' }, 'application/problem+json'))
    const path = join(dir, 'refused.secret')
    try {
      const result = await run(['jwt', 'add', 'ghost', '--secret-file', path], { env: env(peer.url) })
      expect(result.code).toBe(1)
      await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      await peer.close()
    }
  })
})

describe('route add: the body it sends', () => {
  const PROJECT = '2bbb09a6-9600-44d8-bde8-a88e3a03a2f2'

  it('a URL the gateway cannot look up (no IAM): --project says what it is; flags become accept, methods, cors, stripPath', async () => {
    const peer = await adminPeer((req, res) => {
      if (req.url.startsWith('/__edgegw/admin/v1/resources')) return json(res, 503, { code: 'not_configured', detail: 'IAM is not configured' }, 'application/problem+json')
      json(res, 201, JSON.parse(req.body))
    })
    try {
      const result = await run(['route', 'add', '/v1/app', '--target', 'https://app.example/fn', '--project', PROJECT, '--jwt', '--api-key', '--oidc', 'corp', '-m', 'get,post', '--cors', 'https://a.example', '--no-strip-path', '--anonymous', 'visitor', '--no-sync'], { env: env(peer.url) })
      expect(result.code).toBe(0)
      const sent = peer.received.find((r) => r.method === 'POST')!
      expect(JSON.parse(sent.body)).toEqual({
        id: 'v1-app',
        paths: ['/v1/app'],
        methods: ['GET', 'POST'],
        stripPath: false,
        target: { url: 'https://app.example/fn', kind: 'function', projectId: PROJECT, privacy: 'private' },
        auth: { accept: ['api-key', 'consumer-jwt', 'oidc-jwt'], oidcIssuers: ['corp'], anonymousConsumer: 'visitor' },
        cors: { origins: ['https://a.example'] },
      })
      expect(result.stdout.split('\n')[1]).toMatch(/^v1-app +\/v1\/app +https:\/\/app\.example\/fn +GET,POST +api-key,consumer-jwt,oidc-jwt \(oidc: corp\), anonymous allowed$/)
      expect(result.stderr).toContain('Not synced (--no-sync)')
      expect(peer.received.some((r) => r.url.endsWith('/sync'))).toBe(false)
    } finally {
      await peer.close()
    }
  })

  it('a URL neither known nor with --project: exit 2, nothing created', async () => {
    const peer = await adminPeer((_req, res) => json(res, 200, { data: [] }))
    try {
      const result = await run(['route', 'add', '/x', '--target', 'https://x.example'], { env: env(peer.url) })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/the gateway knows no function or container at https:\/\/x\.example; pass --project/)
      expect(peer.received.map((r) => r.method)).toEqual(['GET'])
    } finally {
      await peer.close()
    }
  })

  it('function:<name> matching two functions: exit 1, the candidates named; <namespace>/<name> picks one', async () => {
    const resource = (namespace: string, id: string) => ({ kind: 'function', id, name: 'api', namespace_id: `ns-${namespace}`, namespace_name: namespace, project_id: PROJECT, privacy: 'private', target: { url: `https://${namespace}-api.example`, kind: 'function', projectId: PROJECT, privacy: 'private', resourceName: 'api' } })
    const peer = await adminPeer((req, res) => {
      if (req.url.startsWith('/__edgegw/admin/v1/resources')) return json(res, 200, { data: [resource('blue', 'id-blue'), resource('green', 'id-green')] })
      if (req.url.endsWith('/sync')) return json(res, 200, { ok: true, changed: true, status: {} })
      json(res, 201, JSON.parse(req.body))
    })
    try {
      const ambiguous = await run(['route', 'add', '/api', '--target', 'function:api'], { env: env(peer.url) })
      expect(ambiguous.code).toBe(1)
      expect(ambiguous.stderr).toBe('edgegw: resource_ambiguous: several functions are named "api": use one of function:blue/api (id-blue), function:green/api (id-green)\n')
      const picked = await run(['route', 'add', '/api', '--target', 'function:green/api', '--json'], { env: env(peer.url) })
      expect(picked.code).toBe(0)
      expect(JSON.parse(picked.stdout).target.url).toBe('https://green-api.example')
    } finally {
      await peer.close()
    }
  })
})

describe('sync', () => {
  it('a terminal: "syncing the key set…" while it runs, cleared; the summary on stdout', async () => {
    const status = { lastSuccessAt: 'x', lastError: null, consecutiveFailures: 0, snapshotId: '0123456789abcdef0123456789abcdef', counts: { apiKeys: 3, routes: 2, consumers: 1, jwtCredentials: 1 }, durationMs: 42, writtenAt: 'x', warnings: ['an OIDC JWKS could not be fetched'] }
    const peer = await adminPeer((_req, res) => json(res, 200, { ok: true, changed: true, status }))
    try {
      const result = await run(['sync'], { env: env(peer.url), stderrIsTTY: true })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('\r\x1b[2Ksyncing the key set…\r\x1b[2Kwarning: an OIDC JWKS could not be fetched\n')
      expect(result.stdout).toBe('Synced in 42 ms: key set changed (01234567), 3 API keys, 2 routes, 1 consumers, 1 JWT credentials.\n')
    } finally {
      await peer.close()
    }
  })

  it('a failed sync: exit 1 with its error', async () => {
    const status = { lastSuccessAt: null, lastError: { at: 'x', message: 'GET /iam/v1alpha1/api-keys: HTTP 500' }, consecutiveFailures: 1, snapshotId: null, counts: {}, durationMs: 5, writtenAt: 'x' }
    const peer = await adminPeer((_req, res) => json(res, 502, { ok: false, changed: false, status }))
    try {
      const result = await run(['sync'], { env: env(peer.url) })
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'edgegw: sync_failed: the sync failed: GET /iam/v1alpha1/api-keys: HTTP 500; the Cron retries it (`edgegw status`)\n' })
    } finally {
      await peer.close()
    }
  })
})
