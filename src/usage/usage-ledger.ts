/**
 * The usage ledger: one Durable Object with SQLite storage (`new_sqlite_classes`),
 * named `usage-ledger/v1`, that every isolate's flushes go to and the
 * admin API reads. docs/migration.md, "Who uses what"; docs/storage.md, "Usage ledger".
 */
import { DurableObject } from 'cloudflare:workers'
import * as v from 'valibot'
import { bookBatch, createLedgerTables, pruneLedger } from './ledger-tables.js'
import { queryReport, queryTotals, type UsageReport, type UsageReportQuery, type UsageTotals, type UsageTotalsQuery } from './ledger-queries.js'
import { UsageBatchSchema, utcDay } from './usage-batch.js'

export { USAGE_LEDGER_NAME } from './usage-batch.js'

/** The vars the ledger reads (the Worker's own: a Durable Object shares its Worker's env). */
export interface UsageLedgerEnv {
  /** Days of usage kept, today included. Default 90. */
  USAGE_RETENTION_DAYS?: string
}

/** Batches in one `record` call at most: an isolate holds at most `maxEntries` entries, in however many batches. */
const MAX_BATCHES_PER_CALL = 1000

/**
 * One instance holds the whole ledger. Writes are bounded by the isolates'
 * flush rate (one per isolate per `USAGE_FLUSH_SECONDS` or `USAGE_FLUSH_REQUESTS`),
 * each flush one transaction; reads group over days and credentials in SQLite.
 */
export class UsageLedger extends DurableObject<UsageLedgerEnv> {
  readonly #retentionDays: number
  #prunedOn = ''

  constructor(ctx: DurableObjectState, env: UsageLedgerEnv) {
    super(ctx, env)
    const days = Number(env.USAGE_RETENTION_DAYS || 90)
    this.#retentionDays = Number.isInteger(days) && days > 0 ? days : 90
    createLedgerTables(ctx.storage.sql)
  }

  /**
   * Books batches (each once, by id) in one transaction. A batch that does not
   * fit the schema is rejected, not thrown: a sender retrying it would never
   * succeed, and would keep it (and its memory) for ever.
   */
  async record(batches: unknown): Promise<{ booked: number; duplicates: number; rejected: number }> {
    const list = Array.isArray(batches) ? batches.slice(0, MAX_BATCHES_PER_CALL) : []
    const valid = list.flatMap((batch) => {
      const parsed = v.safeParse(UsageBatchSchema, batch)
      return parsed.success ? [parsed.output] : []
    })
    const rejected = (Array.isArray(batches) ? batches.length : 1) - valid.length
    if (rejected > 0) console.error(JSON.stringify({ event: 'usage_batches_rejected', rejected }))
    const now = Date.now()
    const sql = this.ctx.storage.sql
    return this.ctx.storage.transactionSync(() => {
      this.#prune(now)
      let booked = 0
      for (const batch of valid) if (bookBatch(sql, batch, now)) booked += 1
      return { booked, duplicates: valid.length - booked, rejected }
    })
  }

  /** Per-credential usage over a range of days. */
  report(query: UsageReportQuery): UsageReport {
    return queryReport(this.ctx.storage.sql, query)
  }

  /** Calls per kind since a day, and the active credentials of one kind. */
  totals(query: UsageTotalsQuery): UsageTotals {
    return queryTotals(this.ctx.storage.sql, query)
  }

  /** Days before the retention window go, once a day. */
  #prune(now: number): void {
    const today = utcDay(now)
    if (this.#prunedOn === today) return
    pruneLedger(this.ctx.storage.sql, utcDay(now - (this.#retentionDays - 1) * 86_400_000), now)
    this.#prunedOn = today
  }
}
