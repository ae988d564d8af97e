import { KvKeySetStore, type KeySetKvReader, type KvKeySetStoreOptions } from './kv-store.js'

/**
 * A `keySet` option for {@link edgeAuth} that reads a KV binding from the request's
 * environment. One store (and so one memory cache) is kept per binding object for
 * the life of the isolate; nothing is shared between different bindings.
 *
 * `Bindings` is the app's `Bindings` type: TypeScript infers it from the app the
 * middleware is used in (or from `edgeAuth<Env>`), so `(env) => env.TYPO` does not
 * compile.
 *
 * @throws {Error} per request, when the selector returns no binding (then `edgeAuth` answers 500).
 * @example
 * ```ts
 * type Env = { Bindings: { KEYSET: KVNamespace } }
 * const app = new Hono<Env>()
 * app.use('/fn/*', edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target }))
 * ```
 */
export function kvKeySet<Bindings extends object>(
  binding: (env: Bindings) => KeySetKvReader | undefined,
  options?: KvKeySetStoreOptions,
): (c: { env: Bindings }) => KvKeySetStore {
  const stores = new WeakMap<KeySetKvReader, KvKeySetStore>()
  return (c) => {
    const kv = binding(c.env)
    if (!kv) throw new Error('kvKeySet: the KV binding is not configured')
    let store = stores.get(kv)
    if (!store) stores.set(kv, (store = new KvKeySetStore(kv, options)))
    return store
  }
}
