/** The usage ledger's Durable Object binding, as the gateway and the admin API use it. */
import type { Context } from 'hono'
import type { UsageReport, UsageReportQuery, UsageTotals, UsageTotalsQuery } from './ledger-queries.js'
import { USAGE_LEDGER_NAME, type UsageBatch, type UsageSink } from './usage-batch.js'
import { UsageRecorder, type UsageRecorderOptions } from './usage-recorder.js'

/** The ledger's RPC methods, as a stub exposes them. */
export interface UsageLedgerClient extends UsageSink {
  record(batches: UsageBatch[]): Promise<{ booked: number; duplicates: number; rejected: number }>
  report(query: UsageReportQuery): Promise<UsageReport>
  totals(query: UsageTotalsQuery): Promise<UsageTotals>
}

/** The subset of a `DurableObjectNamespace<UsageLedger>` binding used here. */
export interface UsageLedgerNamespace {
  idFromName(name: string): DurableObjectId
  get(id: DurableObjectId): unknown
}

/** The one ledger instance of a binding (`USAGE`). */
export function usageLedger(namespace: UsageLedgerNamespace): UsageLedgerClient {
  return namespace.get(namespace.idFromName(USAGE_LEDGER_NAME)) as UsageLedgerClient
}

/**
 * A `usage` option for `createGateway` that flushes to the ledger of a binding
 * of the request's environment: one {@link UsageRecorder} per binding object for
 * the life of the isolate; none (no counting) when the binding is not configured.
 *
 * @throws {TypeError} when an option is out of range.
 * @example
 * ```ts
 * createGateway({ keySet, originToken, usage: usageRecorder((env) => env.USAGE, { flushIntervalSeconds: 10 }) })
 * ```
 */
export function usageRecorder<E extends object = any>(binding: (env: E) => UsageLedgerNamespace | undefined, options: UsageRecorderOptions = {}): (c: Context<{ Bindings: E }>) => UsageRecorder | undefined {
  // Checks the options once, now, rather than at the first request.
  void new UsageRecorder({ record: async () => undefined }, options)
  const recorders = new WeakMap<UsageLedgerNamespace, UsageRecorder>()
  return (c) => {
    const namespace = binding(c.env)
    if (!namespace) return undefined
    let recorder = recorders.get(namespace)
    // A stub per flush: I/O objects belong to the request that made them.
    if (!recorder) recorders.set(namespace, (recorder = new UsageRecorder({ record: (batches) => usageLedger(namespace).record(batches) }, options)))
    return recorder
  }
}
