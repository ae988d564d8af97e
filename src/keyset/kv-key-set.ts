import type { Context } from 'hono'
import { KvKeySetStore, type KeySetKvReader, type KvKeySetStoreOptions } from './kv-store.js'

/**
 * A `keySet` option for {@link edgeAuth} that reads a KV binding from the request's
 * environment. One store (and so one memory cache) is kept per binding object for
 * the life of the isolate; nothing is shared between different bindings.
 *
 * @example
 * ```ts
 * edgeAuth({ keySet: kvKeySet((env) => env.KEYSET), target })
 * ```
 */
export function kvKeySet<E extends object = any>(binding: (env: E) => KeySetKvReader, options?: KvKeySetStoreOptions): (c: Context<{ Bindings: E }>) => KvKeySetStore {
  const stores = new WeakMap<KeySetKvReader, KvKeySetStore>()
  return (c) => {
    const kv = binding(c.env)
    if (!kv) throw new Error('kvKeySet: the KV binding is not configured')
    let store = stores.get(kv)
    if (!store) stores.set(kv, (store = new KvKeySetStore(kv, options)))
    return store
  }
}
