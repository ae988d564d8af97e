/**
 * Usage counting in the isolate: a map increment per accepted request, flushed
 * in the background to the ledger (docs/migration.md, "Who uses what").
 */
import type { EdgeAuthIdentity } from '../middleware/identity.js'
import { USER_AGENTS_PER_DAY, utcDay, type UsageBatch, type UsageEntry, type UsageSink } from './usage-batch.js'
import { cleanUserAgent } from './user-agent.js'

/** Options of {@link UsageRecorder}; every field has a default. */
export interface UsageRecorderOptions {
  /** Seconds after the last flush at which the next request starts one. Default 10. */
  flushIntervalSeconds?: number
  /** Requests counted since the last flush at which one starts, whatever the time. Default 500. */
  flushEveryRequests?: number
  /**
   * Entries (credential × kind × route × day) held at most, unsent ones included:
   * about 0.3 KiB each, 1 KiB with three long user agents. A request whose entry
   * would be one more is not counted but added to `droppedCalls`, which the next
   * flush books. Default 10,000.
   */
  maxEntries?: number
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
}

/** One request to count. */
export interface UsageEvent {
  identity: EdgeAuthIdentity
  routeId: string
  /** The request's `User-Agent`, as sent (cleaned here). */
  userAgent: string | undefined
}

/** The outcome of {@link UsageRecorder.flush}. */
export interface FlushOutcome {
  /** Batches the ledger booked in this flush (earlier failed ones included). */
  batches: number
  /** Calls in those batches. */
  calls: number
}

interface PendingEntry extends UsageEntry {
  /** Raw user agents seen (truncated), to skip cleaning a known one; never sent. */
  seenAgents: Set<string>
}

/** A flush that has not settled after this long is presumed lost (a `waitUntil` may be cut short). */
const FLUSH_ABANDONED_MS = 30_000

/**
 * Counts accepted requests per credential id, kind, route and UTC day in a
 * `Map`, and sends them to a {@link UsageSink} in batches: from the request
 * that finds `flushIntervalSeconds` passed since the last flush or
 * `flushEveryRequests` counted, through that request's `waitUntil`. A failed
 * flush keeps its batch (same id, so the ledger books it once) for the next
 * attempt. An isolate that is evicted loses what it counted since its last flush.
 *
 * @throws {TypeError} from the constructor when an option is out of range.
 * @example
 * ```ts
 * const recorder = new UsageRecorder(ledger, { flushIntervalSeconds: 10 })
 * recorder.count({ identity, routeId: 'hello', userAgent }, (p) => ctx.waitUntil(p))
 * ```
 */
export class UsageRecorder {
  readonly #sink: UsageSink
  readonly #intervalMs: number
  readonly #everyRequests: number
  readonly #maxEntries: number
  readonly #clock: () => number
  readonly #pending = new Map<string, PendingEntry>()
  /** Batches cut but not yet booked, by id. */
  readonly #unsent = new Map<string, UsageBatch>()
  #unsentEntries = 0
  #countedSinceFlush = 0
  #droppedCalls = 0
  #lastFlushAt: number
  #autoFlushStartedAt: number | undefined
  #day = ''
  #dayEndsAt = 0
  #lastError: string | undefined

  constructor(sink: UsageSink, options: UsageRecorderOptions = {}) {
    this.#sink = sink
    this.#intervalMs = 1000 * positive('flushIntervalSeconds', options.flushIntervalSeconds ?? 10)
    this.#everyRequests = positive('flushEveryRequests', options.flushEveryRequests ?? 500)
    this.#maxEntries = positive('maxEntries', options.maxEntries ?? 10_000)
    this.#clock = options.clock ?? Date.now
    this.#lastFlushAt = this.#clock()
  }

  /** Entries held (pending and unsent). */
  get size(): number {
    return this.#pending.size + this.#unsentEntries
  }

  /** The last flush failure, while the latest attempt failed (no credential material). */
  get lastError(): string | undefined {
    return this.#lastError
  }

  /**
   * Counts one accepted request; starts a flush through `waitUntil` when one is due.
   * The hot path: a string key, a map lookup and an increment.
   */
  count(event: UsageEvent, waitUntil: (promise: Promise<unknown>) => void): void {
    const now = this.#clock()
    if (now >= this.#dayEndsAt) this.#newDay(now)
    const { identity } = event
    const key = `${this.#day}\n${identity.method}\n${identity.credentialId}\n${event.routeId}`
    let entry = this.#pending.get(key)
    if (!entry) {
      if (this.size >= this.#maxEntries) {
        this.#droppedCalls += 1
      } else {
        entry = newEntry(this.#day, event, now)
        this.#pending.set(key, entry)
      }
    }
    if (entry) {
      entry.calls += 1
      entry.lastSeenMs = now
      if (event.userAgent && entry.seenAgents.size < USER_AGENTS_PER_DAY * 2) this.#addUserAgent(entry, event.userAgent)
    }
    this.#countedSinceFlush += 1
    if (this.#countedSinceFlush >= this.#everyRequests || now - this.#lastFlushAt >= this.#intervalMs) {
      const started = this.#autoFlushStartedAt
      if (started !== undefined && now - started < FLUSH_ABANDONED_MS) return
      this.#autoFlushStartedAt = now
      waitUntil(
        this.flush()
          .catch(() => undefined)
          .finally(() => (this.#autoFlushStartedAt = undefined)),
      )
    }
  }

  /**
   * Cuts a batch of what is pending and sends it with every batch not booked yet.
   * Safe to call while another flush runs: the ledger books each batch once.
   * @throws when the sink fails; the batches are kept for the next flush.
   */
  async flush(): Promise<FlushOutcome> {
    const now = this.#clock()
    this.#lastFlushAt = now
    this.#countedSinceFlush = 0
    if (this.#pending.size > 0 || this.#droppedCalls > 0) {
      const batch: UsageBatch = { id: crypto.randomUUID(), droppedCalls: this.#droppedCalls, cutAtMs: now, entries: [...this.#pending.values()].map(toEntry) }
      this.#pending.clear()
      this.#droppedCalls = 0
      this.#unsent.set(batch.id, batch)
      this.#unsentEntries += batch.entries.length
    }
    const batches = [...this.#unsent.values()]
    if (batches.length === 0) return { batches: 0, calls: 0 }
    try {
      await this.#sink.record(batches)
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error)
      throw error
    }
    this.#lastError = undefined
    let calls = 0
    for (const batch of batches) {
      if (this.#unsent.delete(batch.id)) this.#unsentEntries -= batch.entries.length
      for (const entry of batch.entries) calls += entry.calls
    }
    return { batches: batches.length, calls }
  }

  #newDay(now: number): void {
    this.#day = utcDay(now)
    this.#dayEndsAt = Date.parse(`${this.#day}T00:00:00Z`) + 86_400_000
  }

  #addUserAgent(entry: PendingEntry, raw: string): void {
    const seen = raw.slice(0, 512)
    if (entry.seenAgents.has(seen)) return
    entry.seenAgents.add(seen)
    const cleaned = cleanUserAgent(seen)
    if (cleaned && entry.userAgents.length < USER_AGENTS_PER_DAY && !entry.userAgents.includes(cleaned)) entry.userAgents.push(cleaned)
  }
}

function newEntry(day: string, event: UsageEvent, now: number): PendingEntry {
  const { identity } = event
  const { principal } = identity
  return {
    day,
    kind: identity.method,
    credentialId: identity.credentialId,
    routeId: event.routeId,
    calls: 0,
    firstSeenMs: now,
    lastSeenMs: now,
    principal: { type: principal.type, id: principal.id, ...(principal.name ? { name: principal.name } : {}) },
    ...(identity.namespaceId ? { namespaceId: identity.namespaceId } : {}),
    userAgents: [],
    seenAgents: new Set(),
  }
}

function toEntry({ seenAgents: _, ...entry }: PendingEntry): UsageEntry {
  return entry
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`UsageRecorder: ${name} must be a positive integer, got ${value}`)
  return value
}
