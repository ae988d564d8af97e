import { describe, expect, it } from 'vitest'
import { applicationWithKey, call, CT, FN, grant, info, ok, unique } from './support.js'

interface Namespace {
  id: string
  project_id: string
  organization_id: string
  status: string
  region: string
  registry_endpoint: string
}
interface Workload {
  id: string
  namespace_id: string
  privacy: string
  status: string
  domain_name: string
  region: string
}

describe('namespaces, functions and containers', () => {
  it('creates a namespace in a Project and a private function in it', async () => {
    const project = crypto.randomUUID()
    const ns = await ok<Namespace>('POST', `${FN}/namespaces`, { body: { name: unique('ns'), project_id: project } })
    expect(ns).toMatchObject({ project_id: project, organization_id: (await info()).organization_id, status: 'pending', region: 'fr-par' })
    expect(Object.keys(ns)).toEqual(['id', 'name', 'environment_variables', 'organization_id', 'project_id', 'status', 'registry_namespace_id', 'error_message', 'registry_endpoint', 'description', 'secret_environment_variables', 'tags', 'created_at', 'updated_at', 'vpc_integration_activated', 'region'])
    expect((await ok<Namespace>('GET', `${FN}/namespaces/${ns.id}`)).status).toBe('ready')

    const fn = await ok<Workload>('POST', `${FN}/functions`, { body: { name: 'hello', namespace_id: ns.id, runtime: 'node22', privacy: 'private' } })
    expect(fn).toMatchObject({ namespace_id: ns.id, privacy: 'private', status: 'created', region: 'fr-par' })
    expect(fn.domain_name).toMatch(/^[a-z0-9]+-hello\.functions\.fnc\.fr-par\.scw\.cloud$/)
    const deployed = await ok<Workload>('POST', `${FN}/functions/${fn.id}/deploy`, { body: {} })
    expect(deployed.status).toBe('pending')
    expect((await ok<Workload>('GET', `${FN}/functions/${fn.id}`)).status).toBe('ready')

    const listed = await ok<{ functions: Workload[]; total_count: number }>('GET', `${FN}/functions?namespace_id=${ns.id}`)
    expect(listed.total_count).toBe(1)
    const byProject = await ok<{ namespaces: Namespace[] }>('GET', `${FN}/namespaces?project_id=${project}`)
    expect(byProject.namespaces.map((n) => n.id)).toEqual([ns.id])
  })

  it('defaults privacy to public and lets PATCH change it', async () => {
    const ns = await ok<Namespace>('POST', `${CT}/namespaces`, { body: { name: unique('cns') } })
    const container = await ok<Workload & { port: number; registry_image: string }>('POST', `${CT}/containers`, { body: { name: 'api', namespace_id: ns.id, privacy: 'unknown_privacy' } })
    expect(container).toMatchObject({ privacy: 'public', port: 8080, status: 'created' })
    expect(container.registry_image).toBe(`${ns.registry_endpoint}/api:latest`)
    const patched = await ok<Workload>('PATCH', `${CT}/containers/${container.id}`, { body: { privacy: 'private' } })
    expect(patched.privacy).toBe('private')
    expect((await ok<Workload>('GET', `${CT}/containers/${container.id}`)).privacy).toBe('private')
  })

  it('keeps products and regions apart', async () => {
    const ns = await ok<Namespace>('POST', `${FN}/namespaces`, { body: { name: unique('ns') } })
    expect((await call('GET', `${CT}/namespaces/${ns.id}`)).status).toBe(404)
    expect((await call('GET', `${FN.replace('fr-par', 'nl-ams')}/namespaces/${ns.id}`)).status).toBe(404)
  })

  it('deletes a namespace with its functions and tokens, answering it as deleting', async () => {
    const ns = await ok<Namespace>('POST', `${FN}/namespaces`, { body: { name: unique('ns') } })
    const fn = await ok<Workload>('POST', `${FN}/functions`, { body: { name: 'gone', namespace_id: ns.id, runtime: 'go124' } })
    const token = await ok<{ id: string }>('POST', `${FN}/tokens`, { body: { namespace_id: ns.id } })
    const deleted = await ok<Namespace>('DELETE', `${FN}/namespaces/${ns.id}`)
    expect(deleted).toMatchObject({ id: ns.id, status: 'deleting' })
    for (const path of [`namespaces/${ns.id}`, `functions/${fn.id}`, `tokens/${token.id}`]) expect((await call('GET', `${FN}/${path}`)).status).toBe(404)
  })

  it.each([
    ['a name with capitals', { name: 'Hello', runtime: 'node22' }, 'name'],
    ['no runtime', { name: 'ok' }, 'runtime'],
    ['an unknown privacy', { name: 'ok', runtime: 'node22', privacy: 'secret' }, 'privacy'],
    ['a memory limit out of range', { name: 'ok', runtime: 'node22', memory_limit: 64 }, 'memory_limit'],
  ])('refuses a function with %s', async (_case, body, argument) => {
    const ns = await ok<Namespace>('POST', `${FN}/namespaces`, { body: { name: unique('ns') } })
    const res = await call<{ details: { argument_name: string }[] }>('POST', `${FN}/functions`, { body: { ...body, namespace_id: ns.id } })
    expect(res.status).toBe(400)
    expect(res.body.details.map((d) => d.argument_name)).toContain(argument)
  })
})

describe('serverless permissions', () => {
  it('lets FunctionsFullAccess on a Project manage that Project only, and lists only it', async () => {
    const mine = crypto.randomUUID()
    const other = crypto.randomUUID()
    const theirs = await ok<Namespace>('POST', `${FN}/namespaces`, { body: { name: unique('theirs'), project_id: other } })
    const { applicationId, secret } = await applicationWithKey()
    await grant({ application_id: applicationId }, { permission_set_names: ['FunctionsFullAccess'], project_ids: [mine] })
    const created = await ok<Namespace>('POST', `${FN}/namespaces`, { token: secret, body: { name: unique('mine'), project_id: mine } })
    expect((await call('POST', `${FN}/namespaces`, { token: secret, body: { name: unique('no'), project_id: other } })).status).toBe(403)
    expect((await call('GET', `${FN}/namespaces/${theirs.id}`, { token: secret })).status).toBe(403)
    const listed = await ok<{ namespaces: Namespace[]; total_count: number }>('GET', `${FN}/namespaces?page_size=100`, { token: secret })
    expect(listed.namespaces.map((n) => n.id)).toEqual([created.id])
    expect(listed.total_count).toBe(1)
    // Functions access is not containers access.
    expect((await call('GET', `${CT}/namespaces`, { token: secret })).status).toBe(403)
  })

  it.each([
    ['FunctionsReadOnly', 'GET', 200],
    ['FunctionsReadOnly', 'POST', 403],
    ['AllProductsFullAccess', 'POST', 200],
    ['FunctionsPrivateAccess', 'GET', 403],
  ])('%s on the Organization may %s namespaces → %i', async (set, method, status) => {
    const { organization_id } = await info()
    const { applicationId, secret } = await applicationWithKey()
    await grant({ application_id: applicationId }, { permission_set_names: [set], organization_id })
    const res = await call(method, `${FN}/namespaces`, { token: secret, ...(method === 'POST' ? { body: { name: unique('ns') } } : {}) })
    expect(res.status).toBe(status)
  })
})
