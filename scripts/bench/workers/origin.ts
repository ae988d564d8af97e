/**
 * The origin stub every variant forwards to: 200 with a small JSON body, whatever
 * the path. `GET /__origin/stats` tells how many requests it has answered, so the
 * benchmark can check that refused requests never reached it.
 */
const BODY = JSON.stringify({ ok: true, from: 'origin-stub' })
let served = 0

export default {
  fetch(request: Request): Response {
    if (new URL(request.url).pathname === '/__origin/stats') return Response.json({ served })
    served++
    return new Response(BODY, { headers: { 'content-type': 'application/json' } })
  },
}
