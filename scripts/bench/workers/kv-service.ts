/**
 * A Workers KV namespace in memory, speaking the protocol workerd's
 * `kvNamespace` binding speaks to the service behind it (the one Miniflare's KV
 * implements): `GET /<key>?urlencoded=true` answers the value or 404, `PUT` stores
 * the body, `DELETE` removes, `GET /?prefix=…&key_count_limit=…&cursor=…` lists
 * (names in order, the cursor being the last name of the page). workerd has no KV of its own; this stands in for it.
 * The benchmark seeds it over HTTP with the same requests, and reads
 * `GET /__kv/stats` (values held, bytes, reads served) to count a variant's KV reads.
 */
const values = new Map<string, string>()
let reads = 0

function keyOf(url: URL): string {
  const raw = url.pathname.slice(1)
  return url.searchParams.get('urlencoded')?.toLowerCase() === 'true' ? decodeURIComponent(raw) : raw
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname === '/__kv/stats') {
      let bytes = 0
      for (const value of values.values()) bytes += value.length
      return Response.json({ keys: values.size, bytes, reads })
    }
    const key = keyOf(url)
    if (key === '' && request.method === 'GET') return list(url)
    if (key === '') return new Response('key required', { status: 400 })
    switch (request.method) {
      case 'GET': {
        reads++
        const value = values.get(key)
        return value === undefined ? new Response('Not Found', { status: 404 }) : new Response(value)
      }
      case 'PUT':
        values.set(key, await request.text())
        return new Response(null, { status: 200 })
      case 'DELETE':
        values.delete(key)
        return new Response(null, { status: 200 })
      default:
        return new Response('method not allowed', { status: 405 })
    }
  },
}

function list(url: URL): Response {
  const prefix = url.searchParams.get('prefix') ?? ''
  const limit = Math.min(1000, Number(url.searchParams.get('key_count_limit') ?? 1000))
  const after = url.searchParams.get('cursor') ?? ''
  const names = [...values.keys()].filter((name) => name.startsWith(prefix) && name > after).sort()
  const page = names.slice(0, limit)
  const complete = page.length === names.length
  return Response.json({ keys: page.map((name) => ({ name })), list_complete: complete, ...(complete ? {} : { cursor: page.at(-1) }), cacheStatus: null })
}
