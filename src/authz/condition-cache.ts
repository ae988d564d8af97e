import { compileCondition, ConditionError, type CompiledCondition } from './conditions.js'
import { BoundedMap } from '../util/bounded-map.js'

/** A condition the gateway refused to compile: its grant allows nothing. */
const REFUSED: CompiledCondition = () => false

/**
 * Conditions compiled once per key-set snapshot per isolate, never per request:
 * a new snapshot starts an empty map, so what a condition compiles to never
 * outlives the snapshot that carried it, and memory stays bounded by the
 * conditions one snapshot holds (at most `maxEntries`; the least recently used go first).
 */
export class CompiledConditions {
  #snapshotId: string | undefined
  readonly #compiled: BoundedMap<string, CompiledCondition>

  constructor(maxEntries = 10_000) {
    this.#compiled = new BoundedMap(maxEntries)
  }

  /** The compiled condition; one that does not compile (the sync warned about it already) never holds. */
  get(source: string, snapshotId: string): CompiledCondition {
    if (snapshotId !== this.#snapshotId) {
      this.#compiled.clear()
      this.#snapshotId = snapshotId
    }
    return this.#compiled.get(source) ?? this.#compiled.set(source, compile(source))
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
