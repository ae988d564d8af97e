import { exports } from 'cloudflare:workers'
import { beforeAll, expect, it } from 'vitest'
import { secrets, seedKeySet } from '../support/fixtures.js'

beforeAll(() => seedKeySet())

it('forwards an allowed call to the origin over HTTP', async () => {
  const res = await exports.default.fetch('https://gw.example/hello/x', { headers: { 'x-auth-token': secrets.functions } })
  expect(res.status).toBe(200)
  const echo = (await res.json()) as { path: string }
  expect(echo.path).toBe('/functions/hello/x')
})
