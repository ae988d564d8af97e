/**
 * Demo private origins: stand-ins for private serverless functions and
 * containers. Like the platform, they refuse (403) any call without the right
 * credential; otherwise they answer with a JSON echo of what they received, so
 * a user sees exactly what an origin behind the gateway sees.
 *
 * Paths: `/functions/{name}/…` and `/containers/{name}/…`; a resource whose name
 * starts with `public-` is public and needs no credential, like a public function. Also:
 * - `?delay_ms=N` waits N ms (at most 60 s) before answering, to try timeouts;
 * - `…/redirect` answers 302, to show redirects come back unfollowed;
 * - `…/reflect-credential` plays a careless origin that sends the credential it
 *   received back in its own `X-Auth-Token` response header (the gateway must drop it);
 * - `…/own-cors` plays an origin that sends its own CORS headers (a wildcard
 *   with credentials); a route with a `cors` policy replaces them;
 * - `GET /__requests` (when `RECORD_REQUESTS` is `"true"`) lists the request ids
 *   seen, so tests can prove a refused request never arrived.
 */
export interface OriginsEnv {
  /** The credential private origins require in `X-Auth-Token`. */
  ORIGIN_AUTH_TOKEN: string
  RECORD_REQUESTS?: string
}

const seen: string[] = []
const MAX_SEEN = 10_000
const MAX_ECHOED_BODY = 64 * 1024

export default {
  async fetch(request: Request, env: OriginsEnv): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname === '/__requests' && env.RECORD_REQUESTS === 'true') {
      return Response.json({ seen })
    }
    if (env.RECORD_REQUESTS === 'true') {
      seen.push(request.headers.get('x-test-marker') ?? url.searchParams.get('marker') ?? url.pathname)
      if (seen.length > MAX_SEEN) seen.shift()
    }
    const match = /^\/(functions|containers)\/([a-z0-9-]+)(\/.*)?$/.exec(url.pathname)
    if (!match) return Response.json({ message: 'no such function or container' }, { status: 404 })
    const [, collection, name] = match
    const token = request.headers.get('x-auth-token')
    const isPublic = name?.startsWith('public-') === true
    if (!isPublic && (!env.ORIGIN_AUTH_TOKEN || token !== env.ORIGIN_AUTH_TOKEN)) {
      return Response.json({ message: 'Forbidden: missing or invalid credential for this private resource' }, { status: 403 })
    }
    const delay = Math.min(Number(url.searchParams.get('delay_ms') ?? 0) || 0, 60_000)
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    if (url.pathname.endsWith('/redirect')) {
      return new Response(null, { status: 302, headers: { location: `/${collection}/${name}/elsewhere` } })
    }
    if (url.pathname.endsWith('/own-cors')) {
      const own = { 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-secret-header', 'access-control-allow-methods': 'DELETE' }
      return Response.json({ ownCors: true }, { headers: own })
    }
    if (url.pathname.endsWith('/reflect-credential')) {
      return Response.json({ reflected: true }, { headers: { 'x-auth-token': token ?? '' } })
    }
    const headers: Record<string, string> = {}
    for (const [key, value] of request.headers) {
      // The origin credential was checked above; echoing it would hand it to the client.
      headers[key] = key === 'x-auth-token' ? (token === env.ORIGIN_AUTH_TOKEN ? '[origin credential: valid]' : '[redacted]') : value
    }
    const body = request.body ? (await request.text()).slice(0, MAX_ECHOED_BODY) : null
    return Response.json({
      resource: { kind: collection === 'functions' ? 'function' : 'container', name },
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      search: url.search,
      headers,
      body,
    })
  },
} satisfies ExportedHandler<OriginsEnv>
