/** Options of {@link PartCache}; every field has a default. */
export interface PartCacheOptions {
  /** Most parts held at once. Default 256. */
  maxEntries?: number
  /**
   * Most bytes held at once, counted as the length of each part's JSON text as read
   * from KV. A parsed part takes about four times its text in an isolate's heap
   * (docs/scale.md). A part larger than this is returned but never kept. Default 8 MiB.
   */
  maxBytes?: number
}

interface Entry<V> {
  value: V
  bytes: number
}

/**
 * Parsed key-set parts held in an isolate's memory, bounded by count and by size,
 * least recently used evicted first. The key-set store keeps API-key shards in one,
 * so a busy isolate holds a bounded share of a large key set (the rest is one KV
 * read away, cached at the edge), however many keys and shards there are.
 *
 * @throws {TypeError} from the constructor when a bound is not a positive number.
 * @example
 * ```ts
 * const shards = new PartCache<Shard>({ maxBytes: 8 * 1024 * 1024 })
 * shards.set(hash, parsed, text.length)
 * shards.get(hash)
 * ```
 */
export class PartCache<V> {
  readonly #maxEntries: number
  readonly #maxBytes: number
  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry<V>>()
  #bytes = 0

  constructor(options: PartCacheOptions = {}) {
    this.#maxEntries = positive('maxEntries', options.maxEntries ?? 256)
    this.#maxBytes = positive('maxBytes', options.maxBytes ?? 8 * 1024 * 1024)
  }

  /** The part, if held; it becomes the most recently used. */
  get(hash: string): V | undefined {
    const entry = this.#entries.get(hash)
    if (entry === undefined) return undefined
    this.#entries.delete(hash)
    this.#entries.set(hash, entry)
    return entry.value
  }

  /** Holds a part of `bytes` bytes, evicting the least recently used ones to stay within bounds. */
  set(hash: string, value: V, bytes: number): void {
    const previous = this.#entries.get(hash)
    if (previous) {
      this.#entries.delete(hash)
      this.#bytes -= previous.bytes
    }
    if (bytes > this.#maxBytes) return
    this.#entries.set(hash, { value, bytes })
    this.#bytes += bytes
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      this.#entries.delete(oldest)
      this.#bytes -= entry.bytes
    }
  }

  /** Parts held. */
  get size(): number {
    return this.#entries.size
  }

  /** Bytes held (the sum of the held parts' sizes as given to {@link set}). */
  get bytes(): number {
    return this.#bytes
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new TypeError(`PartCache: ${name} must be a positive number, got ${value}`)
  return value
}
