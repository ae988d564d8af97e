/**
 * Load on 127.0.0.1, from this (Node) process:
 *
 * - closed loop (throughput): autocannon, N keep-alive connections, each sending
 *   its next request as soon as the previous answer arrived, for T seconds;
 * - open loop (latency at a fixed rate): requests sent on a fixed schedule over a
 *   pool of keep-alive connections whatever the answers do (a slow answer never
 *   holds the next request back, so there is no coordinated omission: a request
 *   that waits for a free connection counts that wait), each latency measured
 *   from the moment the request is handed to Node's HTTP client to the end of
 *   the answer, with sub-microsecond resolution. The scheduler's own lag (Node's
 *   1 ms timer) is recorded apart, as `schedulerLagP99Ms`, not added to latencies.
 *   autocannon's own rate limit is not used for this: it releases each
 *   connection's quota at the start of every second, so its "fixed rate" is a
 *   burst at full speed followed by silence, and its latency histogram counts
 *   whole milliseconds.
 */
import { createRequire } from 'node:module'
import { Agent, request } from 'node:http'
import { percentile } from './stats.js'

interface AutocannonResult {
  requests: { total: number }
  duration: number
  errors: number
  timeouts: number
  non2xx: number
  statusCodeStats: Record<string, { count: number }>
}
type Autocannon = (options: Record<string, unknown>, callback: (error: Error | null, result: AutocannonResult) => void) => unknown
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon
export const AUTOCANNON_VERSION: string = createRequire(import.meta.url)('autocannon/package.json').version

/** What one closed-loop run measured. */
export interface ClosedLoopResult {
  requests: number
  seconds: number
  requestsPerSecond: number
  /** Answers with another status than expected, plus connection errors and timeouts. */
  failures: number
  statuses: Record<string, number>
}

/**
 * Closed-loop throughput with autocannon.
 * @throws {Error} when autocannon itself fails.
 */
export function closedLoop(options: { url: string; headers: Record<string, string>; connections: number; seconds: number; expectStatus: number }): Promise<ClosedLoopResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: options.url, headers: options.headers, connections: options.connections, duration: options.seconds, pipelining: 1, timeout: 10 },
      (error, result) => {
        if (error) return reject(error)
        const statuses: Record<string, number> = {}
        for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count
        const expected = statuses[String(options.expectStatus)] ?? 0
        const total = result.requests.total
        resolve({
          requests: total,
          seconds: result.duration,
          requestsPerSecond: total / result.duration,
          failures: total - expected + result.errors + result.timeouts,
          statuses,
        })
      },
    )
  })
}

/** What one open-loop run measured; latencies in milliseconds. */
export interface OpenLoopResult {
  targetRate: number
  achievedRate: number
  sent: number
  completed: number
  failures: number
  p50: number
  p90: number
  p99: number
  max: number
  /** How late the scheduler sent requests (99th percentile, ms): the generator's own noise. */
  schedulerLagP99Ms: number
}

/**
 * Sends `rate` requests a second for `seconds`, on a fixed schedule (a 1 ms timer
 * sends every request that is due), over at most `maxSockets` keep-alive connections;
 * then waits (bounded) for the last answers.
 */
export async function openLoop(options: { url: string; headers: Record<string, string>; rate: number; seconds: number; expectStatus: number; maxSockets?: number }): Promise<OpenLoopResult> {
  const url = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
  const total = Math.max(1, Math.round(options.rate * options.seconds))
  const interval = 1000 / options.rate
  const latencies: number[] = []
  const lags: number[] = []
  let sent = 0
  let completed = 0
  let failures = 0
  let lastDone = 0
  const start = performance.now() + 5

  const send = (scheduled: number) => {
    const sentAt = performance.now()
    lags.push(sentAt - scheduled)
    const req = request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'GET', headers: options.headers, agent },
      (res) => {
        res.on('data', () => undefined)
        res.on('end', () => {
          const done = performance.now()
          lastDone = done
          completed++
          if (res.statusCode === options.expectStatus) latencies.push(done - sentAt)
          else failures++
        })
      },
    )
    req.on('error', () => {
      completed++
      failures++
    })
    req.end()
  }

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      while (sent < total && start + sent * interval <= now) send(start + sent++ * interval)
      if (sent < total) setTimeout(tick, 1)
      else resolve()
    }
    setTimeout(tick, 5)
  })
  // Bounded wait for the answers still in flight.
  const deadline = performance.now() + 10_000
  while (completed < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  agent.destroy()
  failures += sent - completed
  const sorted = latencies.sort((a, b) => a - b)
  return {
    targetRate: options.rate,
    achievedRate: completed / ((Math.max(lastDone, start + 1) - start) / 1000),
    sent,
    completed,
    failures,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    schedulerLagP99Ms: percentile(lags.sort((a, b) => a - b), 0.99),
  }
}
