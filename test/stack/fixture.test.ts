import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { buildKeySetSource, FixtureError, parseLocalStackFixture, readLocalStackFixture, rebaseTargetUrl } from '../../scripts/lib/fixture.js'
import { StackError, startStack } from '../../scripts/lib/stack.js'

const fixturePath = new URL('../../fixtures/local-stack.json', import.meta.url).pathname
let fixtureJson: Record<string, any>
let tmp: string

beforeAll(async () => {
  fixtureJson = JSON.parse(await readFile(fixturePath, 'utf8'))
  tmp = await mkdtemp(join(tmpdir(), 'edgegw-fixture-'))
})
afterAll(() => rm(tmp, { recursive: true, force: true }))

const edited = (edit: (f: Record<string, any>) => void): Record<string, any> => {
  const copy = structuredClone(fixtureJson)
  edit(copy)
  return copy
}

describe('fixtures/local-stack.json', () => {
  it('is valid and holds no secret', async () => {
    const fixture = await readLocalStackFixture(fixturePath)
    expect(fixture.keys.demo.accessKey).toMatch(/^SCW[0-9A-Z]{17}$/)
    expect(fixture.keys.noGrant.grants).toEqual([])
    expect(JSON.stringify(fixtureJson)).not.toMatch(/secret"\s*:|[0-9a-f]{64}/i)
  })

  it.each([
    ['keys.demo.accessKey', (f: Record<string, any>) => (f.keys.demo.accessKey = 'SCW123')],
    ['projectId', (f: Record<string, any>) => delete f.projectId],
    ['routes.1.target.url', (f: Record<string, any>) => (f.routes[1].target.url = 'not a url')],
    ['keys.noGrant.grants.0.scope.type', (f: Record<string, any>) => (f.keys.noGrant.grants = [{ permissionSets: [], scope: { type: 'galaxy' } }])],
    ['keys.demo.acessKey', (f: Record<string, any>) => (f.keys.demo.acessKey = 'typo')],
    ['routes.0.target.projectId', (f: Record<string, any>) => (f.routes[0].target.projectId = '00000000-0000-4000-8000-000000000000')],
  ])('names the bad field %s', (field, edit) => {
    expect(() => parseLocalStackFixture(edited(edit), 'local-stack.json')).toThrow(new RegExp(`^local-stack.json: invalid field "${field.replaceAll('.', '\\.')}": `))
  })

  it('refuses a file that is not JSON, naming the file', async () => {
    const path = join(tmp, 'broken.json')
    await writeFile(path, '{ "organizationId": ')
    await expect(readLocalStackFixture(path)).rejects.toThrow(FixtureError)
    await expect(readLocalStackFixture(path)).rejects.toThrow(`${path}: not valid JSON`)
  })

  it('moves targets under originsUrl to the running origins, and files keys under their digest', async () => {
    expect(rebaseTargetUrl('http://127.0.0.1:8789/functions/hello', 'http://127.0.0.1:8789', 'http://127.0.0.1:40000')).toBe('http://127.0.0.1:40000/functions/hello')
    expect(rebaseTargetUrl('http://127.0.0.1:87890/x', 'http://127.0.0.1:8789', 'http://127.0.0.1:40000')).toBe('http://127.0.0.1:87890/x')
    const fixture = parseLocalStackFixture(fixtureJson, 'fixture')
    const demo = '0b4c7b3e-59a4-4d5e-9a34-5f1b8c1d2e3f'
    const source = await buildKeySetSource(fixture, { apiKeySecrets: { demo, noGrant: '1b4c7b3e-59a4-4d5e-9a34-5f1b8c1d2e3f' }, originsUrl: 'http://127.0.0.1:40000' })
    expect(source.routes.map((r) => r.target.url)).toEqual(['http://127.0.0.1:40000/functions/hello', 'http://127.0.0.1:40000/containers/echo'])
    expect(source.apiKeys[await apiKeyDigest(demo)]?.accessKey).toBe('SCWDEMOLOCALSTACK001')
    expect(JSON.stringify(source)).not.toContain(demo)
  })
})

describe('startStack refuses to start', () => {
  let server: Server
  afterAll(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())))

  it('on a taken port, naming the port and the variable to change', async () => {
    server = createServer()
    const port = await new Promise<number>((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)))
    const failure = startStack({ gatewayPort: port, originsPort: 0, stateDir: join(tmp, 'taken') })
    await expect(failure).rejects.toThrow(StackError)
    await expect(failure).rejects.toThrow(`Port ${port} (gateway) is already in use on 127.0.0.1`)
    await expect(failure).rejects.toThrow('EDGEGW_GATEWAY_PORT=<port>')
  })

  it('on an unreadable secrets file, naming the field but never the value', async () => {
    const dir = join(tmp, 'bad-secrets')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'dev-secrets.json'), JSON.stringify({ originAuthToken: 'leaky-value-1234', apiKeys: {} }))
    const failure = startStack({ gatewayPort: 0, originsPort: 0, stateDir: dir })
    await expect(failure).rejects.toMatchObject({ code: 'secrets_invalid' })
    await expect(failure).rejects.toThrow('field "originAuthToken"')
    await expect(failure).rejects.not.toThrow('leaky-value-1234')
  })
})
