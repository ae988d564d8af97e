/**
 * A JWKS endpoint for the sync tests, served over real HTTP by
 * test/support/jwks-global-setup.ts. Plain JavaScript: Miniflare loads it as is.
 *
 * - `PUT /jwks/{name}` with `{ "jwks": {...} }` serves that document at `GET /jwks/{name}`;
 *   with `{ "fail": "status", "status": 503 }` answers that status; `{ "fail": "hang" }`
 *   never answers (30 s); `{ "fail": "garbage" }` answers 200 with a body that is not JSON;
 *   `{ "fail": "redirect", "to": "other" }` answers 302 to `/jwks/other`.
 * - `GET /jwks/{name}/count` tells how many times the JWKS was fetched.
 */
const served = new Map()
const fetched = new Map()

export default {
  async fetch(request) {
    const url = new URL(request.url)
    const match = /^\/jwks\/([\w-]+)(\/count)?$/.exec(url.pathname)
    if (!match) return new Response('no such path', { status: 404 })
    const name = match[1]
    if (match[2]) return Response.json({ count: fetched.get(name) ?? 0 })
    if (request.method === 'PUT') {
      served.set(name, await request.json())
      return new Response(null, { status: 204 })
    }
    fetched.set(name, (fetched.get(name) ?? 0) + 1)
    const entry = served.get(name)
    if (!entry) return new Response('no such JWKS', { status: 404 })
    switch (entry.fail) {
      case 'status':
        return new Response('scripted failure', { status: entry.status ?? 500 })
      case 'hang':
        await new Promise((resolve) => setTimeout(resolve, 30_000))
        return new Response('too late', { status: 504 })
      case 'redirect':
        return new Response(null, { status: 302, headers: { location: `/jwks/${entry.to}` } })
      case 'garbage':
        return new Response('{"keys": [', { headers: { 'content-type': 'application/json' } })
      default:
        return Response.json(entry.jwks, { headers: { 'content-type': 'application/jwk-set+json' } })
    }
  },
}
