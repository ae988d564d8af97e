/**
 * A scripted API peer for the ApiClient tests, served over real HTTP by the
 * global setup: each path answers in a way a real API sometimes does.
 *
 * - `/seq/{id}?statuses=429,500,200` answers the statuses in turn (the last one
 *   repeats), 429s with `Retry-After: 2`; `GET /seq/{id}/count` tells how many calls
 *   came, and how many of them carried an `X-Auth-Token`.
 * - `/redirect?to=URL&status=302` answers a redirect to `to` (absolute, or a path).
 * - `/items?total=N` is a Scaleway-style paginated list of N items.
 * - `/garbage` is 200 with a body that is not JSON; `/shape` is JSON of the wrong shape.
 * - `/slow?ms=N` waits N ms; `/missing` is a Scaleway 404 body.
 * - `PUT /jwks/{id}` stores a JWKS that `GET /jwks/{id}` then serves (counting
 *   fetches at `GET /jwks/{id}/count`), as an OIDC provider's `jwks_uri`.
 */
const calls = new Map<string, number>()
const withToken = new Map<string, number>()
const jwks = new Map<string, string>()

export default {
  async fetch(request: Request): Promise<Response> {
    // Read the whole request body before answering: a peer that answers a POST (e.g. with
    // a redirect) while its body is still being sent can make the client see
    // "Network connection lost" instead of the answer.
    const bodyText = request.body ? await request.text() : ''
    const url = new URL(request.url)
    const seq = /^\/seq\/([\w-]+)(\/count)?$/.exec(url.pathname)
    if (seq) {
      const id = seq[1]!
      if (seq[2]) return Response.json({ count: calls.get(id) ?? 0, withToken: withToken.get(id) ?? 0 })
      const n = (calls.get(id) ?? 0) + 1
      calls.set(id, n)
      if (request.headers.has('x-auth-token')) withToken.set(id, (withToken.get(id) ?? 0) + 1)
      const statuses = (url.searchParams.get('statuses') ?? '200').split(',').map(Number)
      const status = statuses[Math.min(n, statuses.length) - 1]!
      if (status === 200) return Response.json({ ok: true, token: request.headers.get('x-auth-token') === 'test-token' })
      return Response.json({ message: `scripted ${status}`, type: status === 429 ? 'too_many_requests' : 'internal_error' }, { status, headers: status === 429 ? { 'retry-after': '2' } : {} })
    }
    const jwksPath = /^\/jwks\/([\w-]+)(\/count)?$/.exec(url.pathname)
    if (jwksPath) {
      const id = jwksPath[1]!
      if (request.method === 'PUT') {
        jwks.set(id, bodyText)
        return new Response(null, { status: 204 })
      }
      if (jwksPath[2]) return Response.json({ count: calls.get(`jwks:${id}`) ?? 0 })
      calls.set(`jwks:${id}`, (calls.get(`jwks:${id}`) ?? 0) + 1)
      const body = jwks.get(id)
      return body ? new Response(body, { headers: { 'content-type': 'application/json' } }) : new Response('{"message":"no jwks"}', { status: 404 })
    }
    switch (url.pathname) {
      case '/items': {
        const total = Number(url.searchParams.get('total'))
        const page = Number(url.searchParams.get('page'))
        const size = Number(url.searchParams.get('page_size'))
        const start = (page - 1) * size
        const items = Array.from({ length: Math.max(0, Math.min(size, total - start)) }, (_, i) => ({ id: `item-${start + i}` }))
        return Response.json({ items, total_count: total })
      }
      case '/redirect':
        return new Response(null, { status: Number(url.searchParams.get('status') ?? 302), headers: { location: url.searchParams.get('to') ?? '/' } })
      case '/garbage':
        return new Response('{"items":[{"id":', { headers: { 'content-type': 'application/json' } })
      case '/shape':
        return Response.json({ items: 'not a list', total_count: 1 })
      case '/slow':
        await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get('ms'))))
        return Response.json({ ok: true })
      case '/missing':
        return Response.json({ message: 'resource is not found', type: 'not_found', resource: 'api_key', resource_id: 'SCWX' }, { status: 404 })
      default:
        return new Response('no such script', { status: 404 })
    }
  },
}
