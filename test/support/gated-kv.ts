import { CountingKv } from './counting-kv.js'

/** A caller held by {@link GatedKv} right after one of its KV operations. */
export interface Hold {
  /** Resolves once the operation has reached KV and its caller is held. */
  readonly reached: Promise<void>
  /** Lets the held caller go on. */
  release(): void
}

/**
 * A real KV binding that can hold its caller right after a given operation, so
 * a test drives two writers step by step: a deterministic interleaving, with
 * every operation still reaching real KV.
 */
export class GatedKv extends CountingKv {
  readonly #holds: { op: 'get' | 'put' | 'delete'; key: string; arrive: () => void; gate: Promise<void> }[] = []

  /** Holds the next caller of `op` on `key` once the operation is done, until {@link Hold.release}. */
  holdAfter(op: 'get' | 'put' | 'delete', key: string): Hold {
    let arrive!: () => void
    let release!: () => void
    const reached = new Promise<void>((resolve) => (arrive = resolve))
    const gate = new Promise<void>((resolve) => (release = resolve))
    this.#holds.push({ op, key, arrive, gate })
    return { reached, release }
  }

  override async get(key: string, options: { type: 'text'; cacheTtl?: number }): Promise<string | null> {
    const value = await super.get(key, options)
    await this.#pass('get', key)
    return value
  }

  override async put(key: string, value: string): Promise<void> {
    await super.put(key, value)
    await this.#pass('put', key)
  }

  override async delete(key: string): Promise<void> {
    await super.delete(key)
    await this.#pass('delete', key)
  }

  async #pass(op: 'get' | 'put' | 'delete', key: string): Promise<void> {
    const index = this.#holds.findIndex((h) => h.op === op && h.key === key)
    if (index < 0) return
    const [hold] = this.#holds.splice(index, 1)
    hold!.arrive()
    await hold!.gate
  }
}
