import { EdgeAuthError } from '../errors.js'
import { routePrefixNormalForm } from '../http/normalize-path.js'

/** Paths under this prefix belong to the gateway itself (its admin API). */
export const RESERVED_PREFIX = '/__edgegw'

/**
 * Where the admin API lives (`src/admin/admin-api.ts`); here, below it, so that the
 * edge Worker forwards the prefix to the control plane without importing the admin API.
 */
export const ADMIN_PREFIX = `${RESERVED_PREFIX}/admin/v1`

/**
 * Checks a route table as a whole: unique ids; every path prefix in the normal
 * form request paths are matched in (so `/%7Ealice`, which no request could
 * match, is refused with its normal form `/~alice`, and `/a;b` as a form origins
 * read differently); no path under the reserved prefix; and no two routes
 * claiming the same path and method (which one would win would be an accident of order).
 * @throws {TypeError} naming the routes at fault.
 */
export function assertValidRoutes(routes: readonly { id: string; paths: string[]; methods?: string[] | undefined }[]): void {
  const ids = new Set<string>()
  const claimed = new Map<string, string>()
  for (const route of routes) {
    if (ids.has(route.id)) throw new TypeError(`route id "${route.id}" is used twice`)
    ids.add(route.id)
    for (const path of route.paths) {
      assertNormalPrefix(route.id, path)
      if (path === RESERVED_PREFIX || path.startsWith(`${RESERVED_PREFIX}/`)) throw new TypeError(`route "${route.id}" claims ${RESERVED_PREFIX}, reserved for the gateway's admin API`)
      for (const method of route.methods ?? ['*']) {
        const key = `${method} ${path}`
        const other = claimed.get(key) ?? claimed.get(`* ${path}`) ?? (method === '*' ? [...claimed].find(([k]) => k.endsWith(` ${path}`))?.[1] : undefined)
        if (other !== undefined) throw new TypeError(`routes "${other}" and "${route.id}" both claim ${method === '*' ? 'every method' : method} on ${path}`)
        claimed.set(key, route.id)
      }
    }
  }
}

function assertNormalPrefix(id: string, path: string): void {
  let normal: string
  try {
    normal = routePrefixNormalForm(path)
  } catch (error) {
    if (!(error instanceof EdgeAuthError)) throw error
    throw new TypeError(`route "${id}": path ${JSON.stringify(path)} holds a form that requests may not have (a ";" parameter, an encoded "/", "\\" or "%", a control character)`)
  }
  if (normal !== path) throw new TypeError(`route "${id}": path ${JSON.stringify(path)} is not in normal form; write ${JSON.stringify(normal)}`)
}

/** Options of {@link insecureTargetReason} and {@link assertSecureTargets}. */
export interface TargetRules {
  /** Let private targets on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`) use `http://`: local stacks and tests only. */
  allowInsecureLoopbackOrigins: boolean
}

/**
 * Why a target may not receive the gateway's origin credential, or `undefined`
 * when it may: a private target must be `https://`, but for a loopback host
 * when {@link TargetRules.allowInsecureLoopbackOrigins} is set. A public target
 * gets no origin credential and may be `http://`.
 * @example
 * ```ts
 * insecureTargetReason({ url: 'http://origin.example', privacy: 'private' }, { allowInsecureLoopbackOrigins: false })
 * // 'a private target must be https:// …'
 * ```
 */
export function insecureTargetReason(target: { url: string; privacy: 'private' | 'public' }, rules: TargetRules): string | undefined {
  if (target.privacy !== 'private') return undefined
  const url = new URL(target.url)
  if (url.protocol === 'https:') return undefined
  if (rules.allowInsecureLoopbackOrigins) {
    if (isLoopback(url.hostname)) return undefined
    return 'a private target must be https:// (http:// is allowed for loopback hosts only)'
  }
  return 'a private target must be https:// (http:// loopback origins need ALLOW_INSECURE_LOOPBACK_ORIGINS=true, for local stacks)'
}

/**
 * Refuses a route table with a private target that may not receive the origin
 * credential (see {@link insecureTargetReason}).
 * @throws {TypeError} naming the route.
 */
export function assertSecureTargets(routes: readonly { id: string; target: { url: string; privacy: 'private' | 'public' } }[], rules: TargetRules): void {
  for (const route of routes) {
    const reason = insecureTargetReason(route.target, rules)
    if (reason) throw new TypeError(`route "${route.id}": ${reason}`)
  }
}

function isLoopback(hostname: string): boolean {
  // The URL parser has already written 127.1 as 127.0.0.1 and [0::1] as [::1].
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}
