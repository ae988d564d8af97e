/** Wraps a real KV binding and counts the operations that reach it. */
export class CountingKv {
  gets: string[] = []
  puts: string[] = []
  deletes: string[] = []
  /** The prefix of each `list` call. */
  lists: string[] = []
  /** When set, every get fails as a KV outage would. */
  failing = false

  constructor(private readonly kv: KVNamespace) {}

  async get(key: string, options: { type: 'text'; cacheTtl?: number }): Promise<string | null> {
    this.gets.push(key)
    if (this.failing) throw new Error('KV GET failed: simulated outage')
    return this.kv.get(key, { type: 'text', ...(options.cacheTtl ? { cacheTtl: options.cacheTtl } : {}) })
  }

  async put(key: string, value: string): Promise<void> {
    this.puts.push(key)
    await this.kv.put(key, value)
  }

  async delete(key: string): Promise<void> {
    this.deletes.push(key)
    await this.kv.delete(key)
  }

  async list<M = unknown>(options: { prefix: string; cursor?: string | null; limit?: number }): Promise<KVNamespaceListResult<M, string>> {
    this.lists.push(options.prefix)
    return this.kv.list<M>(options)
  }

  reset(): void {
    this.gets = []
    this.puts = []
    this.deletes = []
    this.lists = []
  }
}
