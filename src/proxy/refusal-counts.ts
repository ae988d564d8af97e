/**
 * Refusals counted rather than each logged (`ACCESS_LOG = "counted"`): per status,
 * code and route, in the isolate's memory, and written as one summary line per
 * interval. A client hammering the gateway with a bad key costs a map increment
 * per request instead of a log line, and the operator still sees who was refused
 * why, and how often.
 */

/** One summary line: the refusals counted since `since`, by status, code and route. */
export interface RefusalSummary {
  since: string
  counts: { status: number; code: string | null; route: string | null; count: number }[]
}

/** The counts of one isolate; {@link take} hands them over once the interval has passed. */
export class RefusalCounts {
  readonly #counts = new Map<string, { status: number; code: string | null; route: string | null; count: number }>()
  #since: number | undefined

  /** @param intervalMs Milliseconds between two summaries (a positive integer). */
  constructor(readonly intervalMs: number) {
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new TypeError('RefusalCounts: intervalMs must be a positive integer')
  }

  /** Counts one refusal at `nowMs`. */
  count(status: number, code: string | null, route: string | null, nowMs: number): void {
    this.#since ??= nowMs
    // Codes and route ids come from the gateway's own tables: the keys are few.
    const key = `${status}\u0000${code ?? ''}\u0000${route ?? ''}`
    const entry = this.#counts.get(key)
    if (entry) entry.count++
    else this.#counts.set(key, { status, code, route, count: 1 })
  }

  /** The summary and a fresh start when the interval since the first refusal counted has passed; else `undefined`. */
  take(nowMs: number): RefusalSummary | undefined {
    if (this.#since === undefined || nowMs - this.#since < this.intervalMs) return undefined
    const summary = { since: new Date(this.#since).toISOString(), counts: [...this.#counts.values()] }
    this.#counts.clear()
    this.#since = undefined
    return summary
  }
}
