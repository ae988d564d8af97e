import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type RunningStack } from '../../scripts/lib/stack.js'

const run = promisify(execFile)

interface Echo {
  path: string
  resource: { kind: string; name: string }
  headers: Record<string, string>
}

let stateDir: string
let stack: RunningStack | undefined
const started: RunningStack[] = []

async function start(ports: { gatewayPort: number; originsPort: number }): Promise<RunningStack> {
  const running = await startStack({ ...ports, stateDir })
  started.push(running)
  return running
}

const call = (path: string, secret?: string): Promise<Response> =>
  fetch(`${stack!.gatewayUrl}${path}`, { headers: secret ? { 'x-auth-token': secret } : {} })

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'edgegw-stack-'))
  stack = await start({ gatewayPort: 0, originsPort: 0 })
})

afterAll(async () => {
  await Promise.allSettled(started.map((s) => s.dispose()))
  await rm(stateDir, { recursive: true, force: true })
})

describe('the local stack', () => {
  it.each([
    ['/hello', '/functions/hello', 'function'],
    ['/echo', '/containers/echo', 'container'],
  ])('lets the demo key call %s; the origin sees %s, the identity, and no client secret', async (path, originPath, kind) => {
    const res = await call(path, stack!.secrets.apiKeys.demo)
    expect(res.status).toBe(200)
    const text = await res.text()
    const echo = JSON.parse(text) as Echo
    expect(echo.path).toBe(originPath)
    expect(echo.resource.kind).toBe(kind)
    expect(echo.headers['x-consumer-id']).toBe('f458a9d9-2afb-460d-bd30-bd598a34bb9f')
    expect(echo.headers['x-credential-identifier']).toBe('SCWDEMOLOCALSTACK001')
    expect(echo.headers['x-auth-method']).toBe('iam-api-key')
    expect(echo.headers['x-auth-token']).toBe('[origin credential: valid]')
    for (const secret of [stack!.secrets.apiKeys.demo, stack!.secrets.apiKeys.noGrant, stack!.secrets.originAuthToken]) {
      expect(text).not.toContain(secret)
    }
  })

  it('answers 401 with a bare Bearer challenge when there is no credential', async () => {
    const res = await call('/hello')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway"')
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(await res.json()).toMatchObject({ status: 401, code: 'credentials_missing' })
  })

  it('answers 403 to the key whose application has no grant', async () => {
    const res = await call('/hello', stack!.secrets.apiKeys.noGrant)
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(await res.json()).toMatchObject({ status: 403, code: 'permission_denied' })
  })

  it('keeps the origins private: 403 without the origin credential, even with a client key', async () => {
    expect((await fetch(`${stack!.originsUrl}/functions/hello`)).status).toBe(403)
    const withClientKey = await fetch(`${stack!.originsUrl}/containers/echo`, { headers: { 'x-auth-token': stack!.secrets.apiKeys.demo } })
    expect(withClientKey.status).toBe(403)
  })

  it('prints curl lines built from the real ports and secrets, each getting its printed status', async () => {
    const { gatewayUrl, originsUrl, secrets, curlLines } = stack!
    // Port 0 was asked for: the defaults (8787, 8789) must not appear.
    expect(gatewayUrl).not.toMatch(/:8787$/)
    expect(curlLines.map((l) => l.status)).toEqual([200, 200, 401, 403, 403])
    expect(curlLines[0]!.command).toContain(`X-Auth-Token: ${secrets.apiKeys.demo}`)
    expect(curlLines[0]!.command).toContain(`${gatewayUrl}/hello`)
    expect(curlLines[1]!.command).toContain(`${gatewayUrl}/echo`)
    expect(curlLines[3]!.command).toContain(`X-Auth-Token: ${secrets.apiKeys.noGrant}`)
    expect(curlLines[4]!.command).toContain(`${originsUrl}/functions/hello`)
    for (const line of curlLines) {
      const { stdout } = await run('sh', ['-c', line.command])
      expect(stdout.match(/^HTTP\/[\d.]+ (\d{3})/)?.[1], line.command).toBe(String(line.status))
    }
  })

  it('keeps its key set and secrets across a restart on the same state directory', async () => {
    const secretsFile = stack!.paths.secretsFile
    const before = { text: await readFile(secretsFile, 'utf8'), mtimeMs: (await stat(secretsFile)).mtimeMs, secrets: stack!.secrets }
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600)
    const ports = { gatewayPort: Number(new URL(stack!.gatewayUrl).port), originsPort: Number(new URL(stack!.originsUrl).port) }
    await stack!.dispose()
    await expect(fetch(`${stack!.gatewayUrl}/hello`)).rejects.toThrow()

    stack = await start(ports)
    // Same ports, same fixture, and KV read back from disk: seeding had nothing to write.
    expect(stack.seeded.changed).toBe(false)
    expect(stack.secrets).toEqual(before.secrets)
    expect(await readFile(secretsFile, 'utf8')).toBe(before.text)
    expect((await stat(secretsFile)).mtimeMs).toBe(before.mtimeMs)
    const res = await call('/hello', before.secrets.apiKeys.demo)
    expect(res.status).toBe(200)
    expect(((await res.json()) as Echo).headers['x-credential-identifier']).toBe('SCWDEMOLOCALSTACK001')
  })
})
