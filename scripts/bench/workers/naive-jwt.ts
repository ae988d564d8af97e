/**
 * Variant (h1), what a user would write without the gateway for an HS256 token:
 * `hono/jwt`, with the secret kept where Workers keep shared configuration, in KV,
 * read on each request (hono's documented pattern for a secret from the
 * environment: build the middleware inside a handler), then the same proxy as (a).
 */
import { Hono } from 'hono'
import { jwt } from 'hono/jwt'
import { proxy } from 'hono/proxy'

interface Env {
  KV: { get(key: string): Promise<string | null> }
  ORIGIN_URL: string
}

const app = new Hono<{ Bindings: Env }>()
app.use('*', async (c, next) => {
  const secret = await c.env.KV.get('naive/jwt-secret')
  if (!secret) return c.text('JWT secret not configured', 500)
  return jwt({ secret, alg: 'HS256' })(c, next)
})
app.all('*', (c) => {
  const url = new URL(c.req.url)
  return proxy(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, c.req.raw)
})

export default app
