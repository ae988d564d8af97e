/** Paths under this prefix belong to the gateway itself (its admin API). */
export const RESERVED_PREFIX = '/__edgegw'

/**
 * Checks a route table as a whole: unique ids, no path under the reserved
 * prefix, and no two routes claiming the same path and method (which one would
 * win would be an accident of order).
 * @throws {TypeError} naming the routes at fault.
 */
export function assertValidRoutes(routes: readonly { id: string; paths: string[]; methods?: string[] | undefined }[]): void {
  const ids = new Set<string>()
  const claimed = new Map<string, string>()
  for (const route of routes) {
    if (ids.has(route.id)) throw new TypeError(`route id "${route.id}" is used twice`)
    ids.add(route.id)
    for (const path of route.paths) {
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
