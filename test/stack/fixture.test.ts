import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRoutes, FixtureError, grantToRule, parseLocalStackFixture, readLocalStackFixture } from '../../scripts/lib/fixture.js'
import { ADMIN_PREFIX } from '../../src/admin/admin-api.js'
import { ADMIN_PATH, startStack } from '../../scripts/lib/stack.js'

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
  it('is valid, names the four applications, and holds no secret and no minted id', async () => {
    const fixture = await readLocalStackFixture(fixturePath)
    expect(Object.values(fixture.applications).map((a) => a.name)).toEqual(['edge-gateway', 'edge-gateway-origin', 'edgegw-demo', 'edgegw-demo-without-policy'])
    expect(fixture.applications.noGrant.grants).toEqual([])
    expect(JSON.stringify(fixtureJson)).not.toMatch(/secret"\s*:|SCW[0-9A-Z]{17}|[0-9a-f]{64}/i)
  })

  it.each([
    ['projectId', (f: Record<string, any>) => delete f.projectId],
    ['applications.demo.name', (f: Record<string, any>) => (f.applications.demo.name = '')],
    ['applications.noGrant.grants.0.scope.type', (f: Record<string, any>) => (f.applications.noGrant.grants = [{ permissionSets: [], scope: { type: 'galaxy' } }])],
    ['applications.gateway.grants.0.scope.organizationId', (f: Record<string, any>) => (f.applications.gateway.grants[0].scope.organizationId = '00000000-0000-4000-8000-000000000000')],
    ['applications.demo.acessKey', (f: Record<string, any>) => (f.applications.demo.acessKey = 'typo')],
    ['functions.0.name', (f: Record<string, any>) => (f.functions[0].name = 'Hello World')],
    ['routes.1.target.name', (f: Record<string, any>) => (f.routes[1].target.name = 'nowhere')],
    ['routes.0.paths.0', (f: Record<string, any>) => (f.routes[0].paths = ['no-slash'])],
  ])('names the bad field %s', (field, edit) => {
    expect(() => parseLocalStackFixture(edited(edit), 'local-stack.json')).toThrow(new RegExp(`^local-stack.json: invalid field "${field.replaceAll('.', '\\.')}": `))
  })

  it('refuses a file that is not JSON, naming the file', async () => {
    const path = join(tmp, 'broken.json')
    await writeFile(path, '{ "organizationId": ')
    await expect(readLocalStackFixture(path)).rejects.toThrow(FixtureError)
    await expect(readLocalStackFixture(path)).rejects.toThrow(`${path}: not valid JSON`)
  })

  it('turns grants into IAM rules and routes into platform targets with their ids', () => {
    const fixture = parseLocalStackFixture(fixtureJson, 'fixture')
    expect(fixture.applications.gateway.grants.map(grantToRule)).toEqual([
      { permission_set_names: ['IAMManager'], organization_id: fixture.organizationId },
      { permission_set_names: ['FunctionsFullAccess', 'ContainersFullAccess'], organization_id: fixture.organizationId },
    ])
    expect(fixture.applications.origin.grants.map(grantToRule)).toEqual([{ permission_set_names: ['FunctionsPrivateAccess', 'ContainersPrivateAccess'], project_ids: [fixture.projectId] }])
    const ids = { namespaces: { functions: '11111111-1111-4111-8111-111111111111', containers: '22222222-2222-4222-8222-222222222222' }, functions: { hello: '33333333-3333-4333-8333-333333333333' }, containers: { echo: '44444444-4444-4444-8444-444444444444' } }
    const routes = buildRoutes(fixture, ids, 'http://127.0.0.1:40000/')
    expect(routes[0]!.target).toEqual({
      url: 'http://127.0.0.1:40000/platform/functions/33333333-3333-4333-8333-333333333333',
      kind: 'function',
      projectId: fixture.projectId,
      organizationId: fixture.organizationId,
      namespaceId: ids.namespaces.functions,
      resourceId: ids.functions.hello,
      resourceName: 'hello',
      privacy: 'private',
    })
    expect(routes[1]!.target.url).toBe('http://127.0.0.1:40000/platform/containers/44444444-4444-4444-8444-444444444444')
    expect(() => buildRoutes(fixture, { ...ids, containers: {} }, 'http://127.0.0.1:40000')).toThrow('the container "echo" was not created')
  })
})

it('calls the admin API where the gateway mounts it', () => {
  expect(ADMIN_PATH).toBe(ADMIN_PREFIX)
})

describe('startStack refuses a secrets file it cannot use, before starting anything', () => {
  it.each([
    ['a damaged field, named but never its value', { version: 2, emulatorAdminSecret: 'leaky-value-1234', adminToken: 'x' }, 'field "emulatorAdminSecret"'],
    ['one written by the previous stack', { originAuthToken: 'leaky-value-1234', apiKeys: {} }, 'written by an older local stack'],
  ])('%s', async (_name, content, message) => {
    const dir = join(tmp, `bad-secrets-${Math.random().toString(36).slice(2)}`)
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'dev-secrets.json'), JSON.stringify(content))
    const failure = startStack({ gatewayPort: 0, emulatorPort: 0, stateDir: dir })
    await expect(failure).rejects.toMatchObject({ code: 'secrets_invalid' })
    await expect(failure).rejects.toThrow(message)
    await expect(failure).rejects.toThrow(`rm -rf ${dir}`)
    await expect(failure).rejects.not.toThrow('leaky-value-1234')
  })
})
