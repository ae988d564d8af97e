/**
 * Variant (a), the baseline: a bare Hono pass-through proxy to the origin stub,
 * no authentication at all. `hono/proxy` drops hop-by-hop headers, as the gateway's
 * forwarding does.
 */
import { Hono } from 'hono'
import { proxy } from 'hono/proxy'

interface Env {
  ORIGIN_URL: string
}

const app = new Hono<{ Bindings: Env }>()
app.all('*', (c) => {
  const url = new URL(c.req.url)
  return proxy(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`, c.req.raw)
})

export default app
