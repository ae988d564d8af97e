import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import worker from '../../src/worker.js'
import type { WorkerEnv as GatewayEnv } from '../../src/worker.js'
import { secrets, seedKeySet } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// A key set that lets secrets.functions through to /hello: only the configuration can stop it.
beforeAll(() => seedKeySet())

// The Worker's own fetch and scheduled handlers, with the test's bindings but one setting broken.
async function callWith(broken: Partial<Record<keyof GatewayEnv, unknown>>): Promise<Response> {
  const ctx = createExecutionContext()
  const marker = newMarker()
  const res = await worker.fetch(new Request('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } }), { ...env, ...broken } as GatewayEnv, ctx)
  await waitOnExecutionContext(ctx)
  expect(await originSaw(marker)).toBe(false)
  return res
}

describe('a missing secret or a bad var', () => {
  it('with every setting right, the same request reaches the origin (the cases below differ only by their setting)', async () => {
    const ctx = createExecutionContext()
    const marker = newMarker()
    const res = await worker.fetch(new Request('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions, 'x-test-marker': marker } }), env, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(200)
    expect(await originSaw(marker)).toBe(true)
  })

  it.each<[string, Partial<Record<keyof GatewayEnv, unknown>>, string]>([
    ['no ORIGIN_AUTH_TOKEN secret', { ORIGIN_AUTH_TOKEN: undefined }, 'ORIGIN_AUTH_TOKEN'],
    ['an empty ORIGIN_AUTH_TOKEN secret', { ORIGIN_AUTH_TOKEN: '' }, 'ORIGIN_AUTH_TOKEN'],
    ['no KEYSET binding', { KEYSET: undefined }, 'KEYSET'],
    ['ORIGIN_TIMEOUT_MS that is not a number', { ORIGIN_TIMEOUT_MS: 'thirty-seconds-5b1c' }, 'ORIGIN_TIMEOUT_MS'],
    ['ACCESS_LOG out of its values', { ACCESS_LOG: 'verbose-5b1c' }, 'ACCESS_LOG'],
    ['LEGACY_SUNSET_AT that is not a timestamp', { LEGACY_SUNSET_AT: 'next-year-5b1c' }, 'LEGACY_SUNSET_AT'],
    ['a CREDENTIAL_ENCRYPTION_KEY shorter than 32 characters', { CREDENTIAL_ENCRYPTION_KEY: 'short-key-5b1c' }, 'CREDENTIAL_ENCRYPTION_KEY'],
    ['IAM_API_TOKEN without SCW_ORGANIZATION_ID', { IAM_API_TOKEN: 'iam-secret-5b1c', SCW_ORGANIZATION_ID: '' }, 'SCW_ORGANIZATION_ID'],
    ['SCW_ORGANIZATION_ID that is not an id', { IAM_API_TOKEN: 'iam-secret-5b1c', SCW_ORGANIZATION_ID: 'my-org-5b1c' }, 'SCW_ORGANIZATION_ID'],
  ])('%s: 503 config_invalid naming the setting, never its value; the origin is not reached', async (_case, broken, setting) => {
    const res = await callWith(broken)
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toBeNull()
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ status: 503, code: 'config_invalid', setting, detail: expect.stringContaining(setting), request_id: expect.any(String) })
    expect(text).not.toContain('5b1c')
    expect(text).not.toContain(secrets.functions)
  })

  it('the admin API answers the same 503: it cannot run on a broken configuration either', async () => {
    const ctx = createExecutionContext()
    const res = await worker.fetch(new Request('https://gw.example/__edgegw/admin/v1/status', { headers: { 'x-auth-token': env.ADMIN_TOKEN! } }), { ...env, ORIGIN_AUTH_TOKEN: undefined } as GatewayEnv, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'config_invalid', setting: 'ORIGIN_AUTH_TOKEN' })
  })
})
