import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, StackError, type RunningStack } from '../../scripts/lib/stack.js'
import { through, type PlatformEcho } from './support.js'

const run = promisify(execFile)

let stateDir: string
let stack: RunningStack
const started: RunningStack[] = []
const scratch: string[] = []

async function start(ports: { gatewayPort: number; emulatorPort: number }, dir = stateDir): Promise<RunningStack> {
  const running = await startStack({ ...ports, stateDir: dir, syncIntervalSeconds: 0 })
  started.push(running)
  return running
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'edgegw-stack-'))
  stack = await start({ gatewayPort: 0, emulatorPort: 0 })
})

afterAll(async () => {
  for (const running of started) await running.dispose()
  for (const dir of [stateDir, ...scratch]) await rm(dir, { recursive: true, force: true })
})

describe('the local stack', () => {
  it('seeds through the APIs at first start: every resource of the fixture, then a sync that answers ok', () => {
    const { seeded, secrets, fixture } = stack
    expect(seeded.created).toEqual(expect.arrayContaining(['application edge-gateway', 'application edge-gateway-origin', 'function hello', 'container echo', 'legacy token of the functions namespace']))
    expect(Object.keys(secrets.apiKeys).sort()).toEqual(['demo', 'gateway', 'noGrant', 'origin'])
    expect(Object.keys(secrets.policies).sort()).toEqual(['demo', 'gateway', 'origin'])
    expect(seeded.routes.map((r) => r.target.url)).toEqual([
      `${stack.emulatorUrl}/platform/functions/${secrets.functions.hello}`,
      `${stack.emulatorUrl}/platform/containers/${secrets.containers.echo}`,
    ])
    expect(seeded.routes[0]!.target).toMatchObject({ namespaceId: secrets.namespaces.functions, resourceId: secrets.functions.hello, projectId: fixture.projectId })
  })

  it('prints curl lines built from the real ports and secrets, each getting its printed status', async () => {
    const { gatewayUrl, emulatorUrl, secrets, curlLines } = stack
    // Port 0 was asked for: the defaults must not appear.
    expect(gatewayUrl).not.toMatch(/:8787$/)
    expect(emulatorUrl).not.toMatch(/:8788$/)
    expect(curlLines.map((l) => l.status)).toEqual([200, 200, 200, 401, 403, 403, 200, 200])
    expect(curlLines[0]!.command).toContain(`X-Auth-Token: ${secrets.apiKeys.demo!.secretKey}`)
    expect(curlLines[2]!.command).toContain(`X-Auth-Token: ${secrets.legacyToken!.token}`)
    expect(curlLines[4]!.command).toContain(`X-Auth-Token: ${secrets.apiKeys.noGrant!.secretKey}`)
    expect(curlLines[5]!.command).toContain(`${emulatorUrl}/platform/functions/${secrets.functions.hello}`)
    expect(curlLines[6]!.command).toContain(`X-Auth-Token: ${secrets.emulatorAdminSecret}`)
    expect(curlLines[7]!.command).toContain(`X-Auth-Token: ${secrets.adminToken}`)
    for (const line of curlLines) {
      const { stdout } = await run('sh', ['-c', line.command])
      expect(stdout.match(/^HTTP\/[\d.]+ (\d{3})/)?.[1], line.title).toBe(String(line.status))
    }
  })

  it.each([
    ['/hello', 'function', 'hello'],
    ['/echo', 'container', 'echo'],
  ])('lets the demo key call %s: the platform checks the origin credential; the echo shows the identity, no client secret', async (path, kind, name) => {
    const demo = stack.secrets.apiKeys.demo!
    const res = await through(stack, path, demo.secretKey)
    expect(res.status).toBe(200)
    const echo = JSON.parse(res.text) as PlatformEcho
    expect(echo.resource).toMatchObject({ kind, name })
    expect(echo.credential).toBe('iam_api_key')
    expect(echo.headers).toMatchObject({ 'x-consumer-id': stack.secrets.applications.demo, 'x-consumer-username': 'edgegw-demo', 'x-credential-identifier': demo.accessKey, 'x-auth-method': 'iam-api-key' })
    for (const secret of [demo.secretKey, stack.secrets.apiKeys.origin!.secretKey, stack.secrets.adminToken]) expect(res.text).not.toContain(secret)
  })

  it('never takes a client-sent CF-Connecting-IP or True-Client-IP for the client address (Miniflare keeps them)', async () => {
    const res = await fetch(`${stack.gatewayUrl}/hello`, {
      headers: { 'x-auth-token': stack.secrets.apiKeys.demo!.secretKey, 'cf-connecting-ip': '203.0.113.9', 'true-client-ip': '203.0.113.10' },
    })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as PlatformEcho
    expect(echo.headers['x-forwarded-for']).toBeUndefined()
    expect(JSON.stringify(echo.headers)).not.toMatch(/203\.0\.113\.(9|10)\b/)
  })

  it('lets the legacy token through; the platform sees the gateway\'s IAM key in its place', async () => {
    const res = await through(stack, '/hello', stack.secrets.legacyToken!.token)
    expect(res.status).toBe(200)
    const echo = JSON.parse(res.text) as PlatformEcho
    expect(echo.credential).toBe('iam_api_key')
    expect(echo.headers['x-auth-method']).toBe('legacy-jwt')
    expect(res.text).not.toContain(stack.secrets.legacyToken!.token)
  })

  it('refuses: 401 without credential, 403 to the key without a grant, 403 on the platform without the origin credential', async () => {
    const none = await through(stack, '/hello')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(JSON.parse(none.text)).toMatchObject({ code: 'credentials_missing' })
    const noGrant = await through(stack, '/hello', stack.secrets.apiKeys.noGrant!.secretKey)
    expect(noGrant.status).toBe(403)
    expect(JSON.parse(noGrant.text)).toMatchObject({ code: 'permission_denied' })
    expect((await fetch(stack.routes[1]!.target.url, { headers: { 'x-auth-token': stack.secrets.apiKeys.noGrant!.secretKey } })).status).toBe(403)
  })

  it('keeps its state across a restart: same secrets, nothing minted, no route or key-set write', async () => {
    const file = stack.paths.secretsFile
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const before = { text: await readFile(file, 'utf8'), mtimeMs: (await stat(file)).mtimeMs, snapshotId: stack.seeded.snapshotId, lines: stack.curlLines }
    const ports = { gatewayPort: Number(new URL(stack.gatewayUrl).port), emulatorPort: Number(new URL(stack.emulatorUrl).port) }
    await stack.dispose()
    await expect(fetch(`${stack.gatewayUrl}/hello`)).rejects.toThrow()

    stack = await start(ports)
    expect(stack.seeded.created).toEqual([])
    expect(stack.seeded.routesWritten).toBe(false)
    expect(stack.seeded.snapshotId).toBe(before.snapshotId)
    expect(await readFile(file, 'utf8')).toBe(before.text)
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs)
    expect(stack.curlLines).toEqual(before.lines)
    expect((await through(stack, '/hello', stack.secrets.apiKeys.demo!.secretKey)).status).toBe(200)
  })

  it.each([
    ['state/emulator', /application edge-gateway [0-9a-f-]{36}, recorded in .*dev-secrets\.json, no longer exists/],
    ['state/kv', /the gateway's capture of the functions namespace key, recorded in .*, no longer exists/],
    ['dev-secrets.json', /dev-secrets\.json is missing but .* holds state/],
  ])('refuses a state directory without %s, telling to reset it', async (removed, message) => {
    // A copy of the stopped stack's state, with one piece removed.
    await stack.dispose()
    const copy = await mkdtemp(join(tmpdir(), 'edgegw-partial-'))
    scratch.push(copy)
    await cp(stateDir, copy, { recursive: true })
    await rm(join(copy, removed), { recursive: true })
    const failure = start({ gatewayPort: 0, emulatorPort: 0 }, copy)
    await expect(failure).rejects.toThrow(message)
    await expect(failure).rejects.toThrow(`rm -rf ${copy}`)
    await expect(failure).rejects.toMatchObject({ code: removed === 'dev-secrets.json' ? 'secrets_invalid' : 'state_incomplete' })
  })

  it('names the port and the variable when a port is taken', async () => {
    const other = await start({ gatewayPort: 0, emulatorPort: 0 })
    const port = Number(new URL(other.emulatorUrl).port)
    const dir = await mkdtemp(join(tmpdir(), 'edgegw-port-'))
    scratch.push(dir)
    const failure = startStack({ gatewayPort: 0, emulatorPort: port, stateDir: dir })
    await expect(failure).rejects.toThrow(StackError)
    await expect(failure).rejects.toThrow(`Port ${port} (emulator) is already in use on 127.0.0.1`)
    await expect(failure).rejects.toThrow('EDGEGW_EMULATOR_PORT=<port>')
  })
})
