/**
 * Breakdown variant (`npm run bench -- --breakdown`): the `edgeAuth` middleware in
 * a user's own Hono app, in front of the same proxy as the bare variant (a): no
 * route table, no gateway forwarding, no access log. Its distance to (a) is what
 * authentication itself costs.
 */
import { Hono } from 'hono'
import { proxy } from 'hono/proxy'
import { kvKeySet } from '../../../src/keyset/kv-key-set.js'
import type { KeySetKvReader } from '../../../src/keyset/kv-store.js'
import { edgeAuth } from '../../../src/middleware/edge-auth.js'

interface Env {
  KEYSET: KeySetKvReader
  ORIGIN_URL: string
  PROJECT_ID: string
}

const app = new Hono<{ Bindings: Env }>()
app.use('*', edgeAuth<{ Bindings: Env }>({ keySet: kvKeySet((env) => env.KEYSET), target: (c) => ({ url: c.env.ORIGIN_URL, kind: 'function', projectId: c.env.PROJECT_ID, privacy: 'private' }) }))
app.all('*', (c) => {
  const url = new URL(c.req.url)
  return proxy(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, c.req.raw)
})

export default app
