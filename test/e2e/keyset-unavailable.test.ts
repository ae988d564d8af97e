import { exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { secrets } from '../support/fixtures.js'

// This file never writes a key set: the gateway has none to read.
it('answers 503 keyset_unavailable with Retry-After, not 401, when no key set was ever loaded', async () => {
  const res = await exports.default.fetch('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions } })
  expect(res.status).toBe(503)
  expect(res.headers.get('retry-after')).toBe('30')
  expect(res.headers.get('www-authenticate')).toBeNull()
  expect(await res.json()).toMatchObject({ code: 'keyset_unavailable', status: 503 })
})
