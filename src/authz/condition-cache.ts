import { compileCondition, ConditionError, type CompiledCondition } from './conditions.js'

/** A condition the gateway refused to compile: its grant allows nothing. */
const REFUSED: CompiledCondition = () => false

/**
 * Conditions compiled once per key-set snapshot per isolate, never per request:
 * a new snapshot starts an empty map, so what a condition compiles to never
 * outlives the snapshot that carried it, and memory stays bounded by the
 * conditions one snapshot holds (at most `maxEntries`; the oldest go first).
 */
export class CompiledConditions {
  #snapshotId: string | undefined
  readonly #compiled = new Map<string, CompiledCondition>()

  constructor(private readonly maxEntries = 10_000) {}

  /** The compiled condition; one that does not compile (the sync warned about it already) never holds. */
  get(source: string, snapshotId: string): CompiledCondition {
    if (snapshotId !== this.#snapshotId) {
      this.#compiled.clear()
      this.#snapshotId = snapshotId
    }
    let compiled = this.#compiled.get(source)
    if (!compiled) {
      compiled = compile(source)
      if (this.#compiled.size >= this.maxEntries) this.#compiled.delete(this.#compiled.keys().next().value!)
      this.#compiled.set(source, compiled)
    }
    return compiled
  }
}

function compile(source: string): CompiledCondition {
  try {
    // An empty condition is none: it holds.
    return compileCondition(source) ?? (() => true)
  } catch (error) {
    if (error instanceof ConditionError) return REFUSED
    throw error
  }
}
