import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/emulator/worker.js'
import { applicationWithKey, BASE, call, FN, IAM, info, ok } from './support.js'

const MISSING = '0e4b1f38-6a8c-4d2e-9b7a-3c5d1e2f4a6b'

describe('error bodies', () => {
  it.each([
    ['api-keys/SCWAAAAAAAAAAAAAAAAA', 'api_key', 'SCWAAAAAAAAAAAAAAAAA'],
    [`applications/${MISSING}`, 'application', MISSING],
    [`users/${MISSING}`, 'user', MISSING],
    [`groups/${MISSING}`, 'group', MISSING],
    [`policies/${MISSING}`, 'policy', MISSING],
  ])('GET /iam/v1alpha1/%s answers 404 not_found', async (path, resource, id) => {
    const res = await call('GET', `${IAM}/${path}`)
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ message: 'resource is not found', resource, resource_id: id, type: 'not_found' })
  })

  it.each([
    [`namespaces/${MISSING}`, 'Namespace'],
    [`functions/${MISSING}`, 'Function'],
    [`tokens/${MISSING}`, 'Token'],
  ])('GET /functions/…/%s answers the serverless 404 message', async (path, what) => {
    const res = await call('GET', `${FN}/${path}`)
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ message: `${what} was not found` })
  })

  it.each([
    ['missing name', {}, 'name', 'required'],
    ['name of the wrong type', { name: 42 }, 'name', 'format'],
    ['name too long', { name: 'a'.repeat(65) }, 'name', 'constraint'],
    ['name with a slash', { name: 'a/b' }, 'name', 'format'],
    ['organization_id not a UUID', { name: 'ok', organization_id: 'nope' }, 'organization_id', 'format'],
  ])('POST /applications with %s answers 400 invalid_arguments', async (_case, body, argument, reason) => {
    const res = await call('POST', `${IAM}/applications`, { body })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ message: 'invalid argument(s)', type: 'invalid_arguments', details: [{ argument_name: argument, reason }] })
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await worker.fetch(new Request(`${IAM}/applications`, { method: 'POST', headers: { 'x-auth-token': env.EMULATOR_ADMIN_SECRET }, body: '{nope' }), env)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ type: 'invalid_arguments', details: [{ argument_name: 'body', reason: 'format' }] })
  })

  it.each([
    ['no X-Auth-Token', null, 'invalid_argument'],
    ['an empty one', '', 'invalid_argument'],
    ['one that is not a UUID', 'hunter2', 'invalid_argument'],
    ['an unknown UUID', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', 'not_found'],
  ])('answers 401 denied_authentication for %s', async (_case, token, reason) => {
    for (const url of [`${IAM}/users`, `${FN}/namespaces`]) {
      const res = await call('GET', url, { token })
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ message: 'authentication is denied', method: 'api_key', reason, type: 'denied_authentication' })
    }
  })

  it.each([
    ['GET', 'users', 'read', 'user'],
    ['POST', 'applications', 'write', 'application'],
    ['GET', 'permission-sets', 'read', 'permission_set'],
  ])('answers 403 permissions_denied to a key without a grant (%s %s)', async (method, path, action, resource) => {
    const { secret } = await applicationWithKey()
    const res = await call(method, `${IAM}/${path}`, { token: secret, ...(method === 'POST' ? { body: { name: 'x' } } : {}) })
    expect(res.status).toBe(403)
    expect(res.body).toEqual({ details: [{ action, resource }], message: 'insufficient permissions', type: 'permissions_denied' })
  })

  it('refuses everything with a clear 500 when EMULATOR_ADMIN_SECRET is unset', async () => {
    for (const path of ['/iam/v1alpha1/users', '/platform/functions/x', '/emulator/info']) {
      const res = await worker.fetch(new Request(`${BASE}${path}`), { ...env, EMULATOR_ADMIN_SECRET: '' })
      expect(res.status).toBe(500)
      expect(((await res.json()) as { message: string }).message).toContain('EMULATOR_ADMIN_SECRET')
    }
  })

  it('refuses another Organization in a body with 403', async () => {
    const res = await call('POST', `${IAM}/applications`, { body: { name: 'elsewhere', organization_id: MISSING } })
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ type: 'permissions_denied' })
    expect((await info()).organization_id).not.toBe(MISSING)
  })

  it('answers an unknown region with 400', async () => {
    const res = await call('GET', `${BASE}/functions/v1beta1/regions/xx-nowhere/namespaces`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ details: [{ argument_name: 'region' }] })
  })
})

it('answers an admin-only control with 403 to an API key, even the owner’s', async () => {
  const { owner_user_id } = await info()
  const key = await ok<{ secret_key: string }>('POST', `${IAM}/api-keys`, { body: { user_id: owner_user_id } })
  expect((await call('GET', `${IAM}/users`, { token: key.secret_key })).status).toBe(200)
  expect((await call('GET', `${BASE}/emulator/faults`, { token: key.secret_key })).status).toBe(403)
})
