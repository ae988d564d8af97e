/**
 * Variant (h2), what a user would write without the gateway for tokens of an
 * identity provider: `hono/jwk` with the provider's `jwks_uri` (it fetches the
 * JWKS on every request: hono keeps no cache), then the same proxy as (a).
 */
import { Hono } from 'hono'
import { jwk } from 'hono/jwk'
import { proxy } from 'hono/proxy'

interface Env {
  JWKS_URL: string
  ORIGIN_URL: string
}

const app = new Hono<{ Bindings: Env }>()
app.use('*', jwk({ jwks_uri: (c) => c.env.JWKS_URL, alg: ['RS256'] }))
app.all('*', (c) => {
  const url = new URL(c.req.url)
  return proxy(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, c.req.raw)
})

export default app
