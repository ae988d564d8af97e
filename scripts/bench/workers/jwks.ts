/**
 * Serves a JWKS at `/.well-known/jwks.json`, as an identity provider would. The
 * benchmark sets it once with `PUT /.well-known/jwks.json` before any load.
 */
let jwks = '{"keys":[]}'

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== '/.well-known/jwks.json') return new Response('not found', { status: 404 })
    if (request.method === 'PUT') {
      jwks = await request.text()
      return new Response(null, { status: 204 })
    }
    return new Response(jwks, { headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' } })
  },
}
