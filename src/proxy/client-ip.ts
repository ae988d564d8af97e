/** The platform's client-address header: set by Cloudflare's edge, which overwrites any value a client sent. */
export const CLOUDFLARE_CLIENT_IP_HEADER = 'cf-connecting-ip'

// An IPv4 or IPv6 address as a proxy writes it; anything else is not an address.
const IP_ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/

/**
 * The client's address, from the one header that names it, and only where that
 * header can be trusted:
 *
 * - `cf-connecting-ip` (the default) on Cloudflare only, told by `request.cf`,
 *   which the Workers runtime sets on every incoming request. Elsewhere (Node,
 *   Bun, Deno) any client can send that header;
 * - another header (`x-real-ip`, `x-forwarded-for`…) as configured: a proxy of
 *   yours in front of the gateway sets it, and it must overwrite what a client
 *   sent. For a list (`X-Forwarded-For`) the last entry, the one that proxy added;
 * - `null`: no header names it.
 *
 * @returns `undefined` when the header is absent, untrusted or not an address.
 * @example
 * ```ts
 * clientIpFromHeader(c.req.raw, 'cf-connecting-ip') // '198.51.100.4' on Cloudflare, undefined on Node
 * ```
 */
export function clientIpFromHeader(request: Request, header: string | null): string | undefined {
  if (header === null) return undefined
  const raw = request.headers.get(header)
  if (raw === null) return undefined
  // The header first: reading request.cf builds its object anew on each access in workerd.
  if (header === CLOUDFLARE_CLIENT_IP_HEADER && !onCloudflare(request)) return undefined
  const value = raw.split(',').at(-1)?.trim()
  return value && IP_ADDRESS.test(value) ? value : undefined
}

function onCloudflare(request: Request): boolean {
  const cf = (request as { cf?: unknown }).cf
  return typeof cf === 'object' && cf !== null
}
