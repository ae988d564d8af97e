import { beforeAll, describe, expect, it } from 'vitest'
import { applicationWithKey, BASE, call, CT, FN, grant, info, ok, unique } from './support.js'

interface Echo {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  credential: string
  resource: { id: string; kind: string; privacy: string }
}

const project = crypto.randomUUID()
const otherProject = crypto.randomUUID()
let organizationId = ''
let namespaceId = ''
let privateFn = ''
let siblingFn = ''
let publicFn = ''
let otherNamespaceFn = ''
let privateContainer = ''

async function fn(namespace: string, name: string, privacy: string): Promise<string> {
  return (await ok<{ id: string }>('POST', `${FN}/functions`, { body: { name, namespace_id: namespace, runtime: 'node22', privacy } })).id
}

/** An application key whose bearer holds one rule. */
async function keyWith(rule: { permission_set_names: string[]; project_ids?: string[]; organization_id?: string; condition?: string }): Promise<string> {
  const { applicationId, secret } = await applicationWithKey()
  await grant({ application_id: applicationId }, rule)
  return secret
}

async function token(body: Record<string, string>): Promise<{ id: string; token: string }> {
  return ok('POST', `${FN}/tokens`, { body })
}

beforeAll(async () => {
  organizationId = (await info()).organization_id
  namespaceId = (await ok<{ id: string }>('POST', `${FN}/namespaces`, { body: { name: unique('ns'), project_id: project } })).id
  const otherNamespace = (await ok<{ id: string }>('POST', `${FN}/namespaces`, { body: { name: unique('ns'), project_id: project } })).id
  privateFn = await fn(namespaceId, 'private-one', 'private')
  siblingFn = await fn(namespaceId, 'private-two', 'private')
  publicFn = await fn(namespaceId, 'public-one', 'public')
  otherNamespaceFn = await fn(otherNamespace, 'elsewhere', 'private')
  const containerNamespace = (await ok<{ id: string }>('POST', `${CT}/namespaces`, { body: { name: unique('cns'), project_id: project } })).id
  privateContainer = (await ok<{ id: string }>('POST', `${CT}/containers`, { body: { name: 'box', namespace_id: containerNamespace, privacy: 'private' } })).id
})

const invoke = (kind: 'functions' | 'containers', id: string, token: string | null, suffix = '/hello?x=1') => call<Echo>('POST', `${BASE}/platform/${kind}/${id}${suffix}`, { token, body: { ping: true } })

describe('the platform in front of private functions', () => {
  it.each([
    ['FunctionsPrivateAccess on its Project', () => ({ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [project] }), 200],
    ['FunctionsPrivateAccess on the Organization', () => ({ permission_set_names: ['FunctionsPrivateAccess'], organization_id: organizationId }), 200],
    ['FunctionsPrivateAccess on another Project', () => ({ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [otherProject] }), 403],
    ['ContainersPrivateAccess only', () => ({ permission_set_names: ['ContainersPrivateAccess'], project_ids: [project] }), 403],
    ['FunctionsFullAccess only', () => ({ permission_set_names: ['FunctionsFullAccess'], project_ids: [project] }), 403],
    ['FunctionsPrivateAccess under a condition', () => ({ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [project], condition: 'request.ip.inIpRange("0.0.0.0/0")' }), 403],
  ])('an IAM key with %s → %i', async (_case, rule, status) => {
    const secret = await keyWith(rule())
    const res = await invoke('functions', privateFn, secret)
    expect(res.status).toBe(status)
    if (status === 200) {
      expect(res.body).toMatchObject({ method: 'POST', path: '/hello', query: { x: '1' }, credential: 'iam_api_key', resource: { id: privateFn, kind: 'function', privacy: 'private' } })
      expect(res.body.headers['x-auth-token']).toBe('[redacted]')
      expect(JSON.stringify(res.body)).not.toContain(secret)
    } else {
      expect(res.body).toEqual({ message: expect.any(String) })
    }
  })

  it('lets the owner (admin secret) in, and refuses no credential, an unknown key and garbage', async () => {
    expect((await invoke('functions', privateFn, undefined as unknown as null)).status).toBe(200)
    for (const credential of [null, crypto.randomUUID(), 'not-a-credential', 'a.b.c']) {
      expect((await invoke('functions', privateFn, credential)).status).toBe(403)
    }
  })

  it.each([
    ['a namespace token', () => token({ namespace_id: namespaceId }), () => privateFn, 200],
    ['a namespace token, on a sibling function', () => token({ namespace_id: namespaceId }), () => siblingFn, 200],
    ['a function token', () => token({ function_id: privateFn }), () => privateFn, 200],
    ['a function token, on a sibling function', () => token({ function_id: privateFn }), () => siblingFn, 403],
    ['a token of another namespace', () => token({ namespace_id: namespaceId }), () => otherNamespaceFn, 403],
  ])('a legacy token: %s → %i', async (_case, mint, target, status) => {
    const minted = await mint()
    const res = await invoke('functions', target(), minted.token)
    expect(res.status).toBe(status)
    if (status === 200) expect(res.body.credential).toBe('legacy_token')
  })

  it('refuses a revoked token', async () => {
    const minted = await token({ namespace_id: namespaceId })
    expect((await invoke('functions', privateFn, minted.token)).status).toBe(200)
    await ok('DELETE', `${FN}/tokens/${minted.id}`)
    expect((await invoke('functions', privateFn, minted.token)).status).toBe(403)
  })

  it('refuses an expired token', async () => {
    const expiresAt = new Date(Date.now() + 1200)
    const minted = await token({ namespace_id: namespaceId, expires_at: expiresAt.toISOString() })
    expect((await invoke('functions', privateFn, minted.token)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now()) + 1100))
    expect((await invoke('functions', privateFn, minted.token)).status).toBe(403)
  })

  it('refuses a token whose signature was tampered with', async () => {
    const minted = await token({ namespace_id: namespaceId })
    const [header, payload, signature] = minted.token.split('.') as [string, string, string]
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await invoke('functions', privateFn, flipped)).status).toBe(403)
  })

  it('answers a public function without a credential, with an echo', async () => {
    const res = await invoke('functions', publicFn, null, '')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ path: '/', credential: 'none', resource: { id: publicFn, privacy: 'public' } })
  })

  it('follows a privacy change made through the API', async () => {
    const flip = await fn(namespaceId, unique('flip'), 'public')
    expect((await invoke('functions', flip, null)).status).toBe(200)
    await ok('PATCH', `${FN}/functions/${flip}`, { body: { privacy: 'private' } })
    expect((await invoke('functions', flip, null)).status).toBe(403)
  })

  it('answers 404 for an unknown function', async () => {
    expect((await invoke('functions', crypto.randomUUID(), null)).status).toBe(404)
  })
})

describe('the platform in front of private containers', () => {
  it.each([
    ['ContainersPrivateAccess', 200],
    ['FunctionsPrivateAccess', 403],
  ])('an IAM key with %s → %i', async (set, status) => {
    const secret = await keyWith({ permission_set_names: [set], project_ids: [project] })
    expect((await invoke('containers', privateContainer, secret)).status).toBe(status)
  })

  it('accepts a container token and refuses a function token', async () => {
    const containerToken = await ok<{ token: string }>('POST', `${CT}/tokens`, { body: { container_id: privateContainer } })
    expect((await invoke('containers', privateContainer, containerToken.token)).status).toBe(200)
    const functionToken = await token({ function_id: privateFn })
    expect((await invoke('containers', privateContainer, functionToken.token)).status).toBe(403)
  })
})
