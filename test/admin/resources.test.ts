import { beforeAll, describe, expect, it } from 'vitest'
import { emulator, emulatorAdmin, emulatorOrganization } from '../support/emulator-admin.js'

// GET /resources: functions and containers found by name, id or URL through the
// serverless API (the emulator), each with the route target it makes.

let org: string
let project: string
const made: Record<string, { id: string; namespace: string; domain: string }> = {}
const base = (product: string) => `/${product}/v1beta1/regions/fr-par`

beforeAll(async () => {
  org = await emulatorOrganization()
  project = org
  const suffix = crypto.randomUUID().slice(0, 8)
  for (const [product, names] of [['functions', ['alpha', 'alpha']], ['containers', ['web']]] as const) {
    for (const [index, name] of names.entries()) {
      const ns = (await emulator('POST', `${base(product)}/namespaces`, { name: `res-${product}-${suffix}-${index}`, project_id: project })).body
      const body = { name: `${name}-${suffix}`, namespace_id: ns.id, privacy: index === 0 ? 'private' : 'public', ...(product === 'functions' ? { runtime: 'node22' } : { registry_image: 'rg.fr-par.scw.cloud/x/web:1' }) }
      const created = await emulator('POST', `${base(product)}/${product}`, body)
      expect(created.status).toBe(200)
      made[`${product}/${name}/${index}`] = { id: created.body.id, namespace: ns.id, domain: created.body.domain_name }
    }
  }
  made.suffix = { id: suffix, namespace: '', domain: '' }
})

const name = (n: string) => `${n}-${made.suffix!.id}`

describe('GET /resources', () => {
  it('finds a container by name, with the target a route to it takes (TARGET_URL_TEMPLATE filled in)', async () => {
    const { call } = emulatorAdmin(org, { targetUrlTemplate: 'http://127.0.0.1:8788/platform/{product}/{id}' })
    const res = await call('GET', `/resources?kind=container&name=${name('web')}`)
    expect(res.status).toBe(200)
    const web = made['containers/web/0']!
    expect(res.body).toEqual({
      data: [
        {
          kind: 'container',
          id: web.id,
          name: name('web'),
          namespace_id: web.namespace,
          namespace_name: expect.stringMatching(/^res-containers-/),
          project_id: project,
          privacy: 'private',
          domain_name: web.domain,
          target: {
            url: `http://127.0.0.1:8788/platform/containers/${web.id}`,
            kind: 'container',
            projectId: project,
            organizationId: org,
            namespaceId: web.namespace,
            resourceId: web.id,
            resourceName: name('web'),
            privacy: 'private',
          },
        },
      ],
    })
  })

  it('answers every function of that name (one per namespace), by default at https://{domain_name}', async () => {
    const { call } = emulatorAdmin(org)
    const res = await call('GET', `/resources?kind=function&name=${name('alpha')}`)
    expect(res.body.data.map((r: { id: string }) => r.id).sort()).toEqual([made['functions/alpha/0']!.id, made['functions/alpha/1']!.id].sort())
    expect(res.body.data.map((r: { target: { url: string } }) => r.target.url).sort()).toEqual([`https://${made['functions/alpha/0']!.domain}`, `https://${made['functions/alpha/1']!.domain}`].sort())
    expect(res.body.data.map((r: { privacy: string }) => r.privacy).sort()).toEqual(['private', 'public'])
  })

  it('finds one by id, and one by its URL (its domain), of either kind when none is given', async () => {
    const { call } = emulatorAdmin(org)
    const fn = made['functions/alpha/1']!
    expect((await call('GET', `/resources?id=${fn.id}`)).body.data.map((r: { id: string }) => r.id)).toEqual([fn.id])
    expect((await call('GET', `/resources?url=${encodeURIComponent(`https://${fn.domain}/some/path`)}`)).body.data.map((r: { id: string }) => r.id)).toEqual([fn.id])
    expect((await call('GET', `/resources?kind=container&name=${name('alpha')}`)).body).toEqual({ data: [] })
  })

  it.each([
    ['', 'name, id or url: one is required'],
    ['kind=lambda&name=x', 'kind: expected function or container'],
    ['id=nope', 'id: expected a UUID'],
    ['name=x&colour=red', 'colour: unknown field'],
  ])('refuses ?%s (400 invalid_query)', async (query, detail) => {
    const { call } = emulatorAdmin(org)
    expect((await call('GET', `/resources?${query}`)).body).toMatchObject({ status: 400, code: 'invalid_query', detail })
  })

  it('without IAM configured: 503 not_configured', async () => {
    const { NotConfiguredError } = await import('../../src/sync/from-env.js')
    const { call } = emulatorAdmin(org, {
      get serverless(): never {
        throw new NotConfiguredError('IAM is not configured: set the IAM_API_TOKEN secret')
      },
    })
    expect((await call('GET', '/resources?name=x')).body).toMatchObject({ status: 503, code: 'not_configured' })
  })
})
