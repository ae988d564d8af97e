import type { Context } from 'hono'
import type { Target } from '../keyset/schema.js'
import type { KeySetStore } from '../keyset/store.js'

/**
 * Options of {@link edgeAuth}.
 *
 * @example
 * ```ts
 * edgeAuth({
 *   keySet: kvKeySet((env) => env.KEYSET),
 *   target: { kind: 'function', projectId, privacy: 'private', url: 'https://…' },
 * })
 * ```
 */
export interface EdgeAuthOptions {
  /** The key set: a store, or a function of the request context returning one (e.g. from a KV binding in `c.env`). */
  keySet: KeySetStore | ((c: Context) => KeySetStore)
  /**
   * What the request would invoke: a fixed target, or a function of the context
   * (the Worker's route table sets it per request). Returning `undefined` is a
   * configuration error and gives 500.
   */
  target: Target | ((c: Context) => Target | undefined)
  /** Realm in `WWW-Authenticate` challenges. Default `"edge-auth-gateway"`. */
  realm?: string
  /** Count `FunctionsFullAccess` / `ContainersFullAccess` / `AllProductsFullAccess` as allowing invocation. Default `false`. */
  fullAccessAllowsInvoke?: boolean
  /** Query parameters that may carry a token. Default none: URLs end up in logs. */
  queryParameters?: readonly string[]
  /** Cookies that may carry a token. Default none. */
  cookies?: readonly string[]
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** {@link EdgeAuthOptions} with every default applied, checked once by the factory. */
export interface ResolvedEdgeAuthOptions {
  keySet: (c: Context) => KeySetStore
  target: (c: Context) => Target | undefined
  realm: string
  fullAccessAllowsInvoke: boolean
  queryParameters: readonly string[]
  cookies: readonly string[]
  clock: () => number
}

const TOKEN_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/

/**
 * Applies defaults and checks every option.
 * @throws {TypeError} naming the first bad option.
 */
export function resolveEdgeAuthOptions(options: EdgeAuthOptions): ResolvedEdgeAuthOptions {
  if (!options || typeof options !== 'object') throw new TypeError('edgeAuth: options are required')
  const { keySet, target } = options
  if (typeof keySet !== 'function' && (typeof keySet !== 'object' || keySet === null || typeof keySet.current !== 'function')) {
    throw new TypeError('edgeAuth: options.keySet must be a KeySetStore or a function returning one')
  }
  if (typeof target !== 'function' && (typeof target !== 'object' || target === null)) {
    throw new TypeError('edgeAuth: options.target must be a Target or a function returning one')
  }
  const realm = options.realm ?? 'edge-auth-gateway'
  if (typeof realm !== 'string' || realm === '' || /["\\\r\n]/.test(realm)) {
    throw new TypeError('edgeAuth: options.realm must be a non-empty string without quotes, backslashes or line breaks')
  }
  const names = (option: 'queryParameters' | 'cookies'): readonly string[] => {
    const list = options[option] ?? []
    if (!Array.isArray(list) || list.some((name) => typeof name !== 'string' || !TOKEN_NAME.test(name))) {
      throw new TypeError(`edgeAuth: options.${option} must be a list of parameter names`)
    }
    return Object.freeze([...list])
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError('edgeAuth: options.clock must be a function')
  return {
    keySet: typeof keySet === 'function' ? keySet : () => keySet,
    target: typeof target === 'function' ? target : () => target,
    realm,
    fullAccessAllowsInvoke: options.fullAccessAllowsInvoke ?? false,
    queryParameters: names('queryParameters'),
    cookies: names('cookies'),
    clock: options.clock ?? Date.now,
  }
}
