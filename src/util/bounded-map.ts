/**
 * A `Map` that holds at most `maxEntries` entries and forgets the least recently
 * used first: the one bounded cache of the gateway's isolate-wide memos (compiled
 * conditions, regular expressions, time-zone formatters, key-set parts), so that no
 * input (a key set, a header, a claim) can grow an isolate's memory without bound.
 *
 * A Map iterates in insertion order; a hit is moved to the end, so the first key is
 * always the least recently used.
 * @example
 * ```ts
 * const zones = new BoundedMap<string, Intl.DateTimeFormat>(64)
 * const format = zones.get(zone) ?? zones.set(zone, new Intl.DateTimeFormat('en-US', { timeZone: zone }))
 * ```
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>()

  /**
   * @param maxEntries Entries kept at most (a positive number).
   * @throws {TypeError} when `maxEntries` is not a positive number.
   */
  constructor(readonly maxEntries: number) {
    if (!(maxEntries > 0)) throw new TypeError('BoundedMap: maxEntries must be a positive number')
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size
  }

  /** The value of `key`, which becomes the most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined
    const value = this.#entries.get(key) as V
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  /** Keeps `value` as the most recently used, forgetting the least recently used beyond `maxEntries`; returns `value`. */
  set(key: K, value: V): V {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as K)
    return value
  }

  /** Forgets `key`; `true` when it was held. */
  delete(key: K): boolean {
    return this.#entries.delete(key)
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear()
  }
}
