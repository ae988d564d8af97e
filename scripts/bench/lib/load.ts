/**
 * Load on 127.0.0.1, from this (Node) process:
 *
 * - closed loop (throughput): autocannon, N keep-alive connections, each sending
 *   its next request as soon as the previous answer arrived, for T seconds;
 * - open loop (latency at a fixed rate): requests sent on a fixed schedule over a
 *   pool of keep-alive connections whatever the answers do (a slow answer never
 *   holds the next request back, so there is no coordinated omission: a request
 *   that waits for a free connection counts that wait), each latency measured
 *   from the moment the request is due and handed to the client to the end of
 *   the answer, with sub-microsecond resolution. The scheduler's own lag (Node's
 *   1 ms timer) is recorded apart, as `schedulerLagP99Ms`, not added to latencies.
 *   autocannon's own rate limit is not used for this: it releases each
 *   connection's quota at the start of every second, so its "fixed rate" is a
 *   burst at full speed followed by silence, and its latency histogram counts
 *   whole milliseconds.
 */
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
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

/** One keep-alive HTTP/1.1 connection of the open loop, with at most one request in flight. */
class Connection {
  readonly #socket: Socket
  #buffer: Buffer = Buffer.alloc(0)
  #sentAt = 0
  busy = false
  closed = false

  constructor(port: number, private readonly onDone: (conn: Connection, status: number, sentAt: number) => void) {
    this.#socket = connect({ host: '127.0.0.1', port, noDelay: true })
    this.#socket.on('data', (chunk) => this.#receive(chunk))
    this.#socket.on('error', () => undefined)
    this.#socket.on('close', () => {
      this.closed = true
      if (this.busy) {
        this.busy = false
        this.onDone(this, 0, this.#sentAt)
      }
    })
  }

  send(request: Buffer, sentAt: number): void {
    this.busy = true
    this.#sentAt = sentAt
    this.#socket.write(request)
  }

  destroy(): void {
    this.#socket.destroy()
  }

  /** Parses one response (Content-Length or chunked, no trailers): enough for the origin stub and the Workers. */
  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const headerEnd = this.#buffer.indexOf('\r\n\r\n')
    if (headerEnd < 0) return
    const head = this.#buffer.toString('latin1', 0, headerEnd)
    const status = Number(head.slice(9, 12))
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    let end: number
    if (length) {
      end = headerEnd + 4 + Number(length[1])
      if (this.#buffer.length < end) return
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      let at = headerEnd + 4
      for (;;) {
        const lineEnd = this.#buffer.indexOf('\r\n', at)
        if (lineEnd < 0) return
        const size = parseInt(this.#buffer.toString('latin1', at, lineEnd), 16)
        at = lineEnd + 2 + size + 2
        if (this.#buffer.length < at) return
        if (size === 0) break
      }
      end = at
    } else {
      end = headerEnd + 4
    }
    this.#buffer = this.#buffer.subarray(end)
    this.busy = false
    this.onDone(this, status, this.#sentAt)
  }
}

/**
 * Sends `rate` requests a second for `seconds`, on a fixed schedule (a 1 ms timer
 * sends every request that is due), over at most `connections` keep-alive
 * connections (raw HTTP/1.1 on sockets: far cheaper for this process than Node's
 * HTTP client, which shares the two cores with workerd); a request due while
 * every connection is busy waits in a queue, and that wait counts in its latency.
 * Then waits (bounded) for the last answers.
 */
export async function openLoop(options: { url: string; headers: Record<string, string>; rate: number; seconds: number; expectStatus: number; connections?: number }): Promise<OpenLoopResult> {
  const url = new URL(options.url)
  const port = Number(url.port)
  const request = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n${Object.entries(options.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`,
    'latin1',
  )
  const total = Math.max(1, Math.round(options.rate * options.seconds))
  const interval = 1000 / options.rate
  const latencies: number[] = []
  const lags: number[] = []
  const queue: number[] = []
  let sent = 0
  let completed = 0
  let failures = 0
  let lastDone = 0

  const pool: Connection[] = []
  const idle: Connection[] = []
  const onDone = (conn: Connection, status: number, sentAt: number) => {
    const done = performance.now()
    lastDone = done
    completed++
    if (status === options.expectStatus) latencies.push(done - sentAt)
    else failures++
    if (conn.closed) return
    const next = queue.shift()
    if (next !== undefined) conn.send(request, next)
    else idle.push(conn)
  }
  const dispatch = (sentAt: number) => {
    let conn = idle.pop()
    while (conn?.closed) conn = idle.pop()
    if (!conn && pool.filter((c) => !c.closed).length < (options.connections ?? 16)) {
      conn = new Connection(port, onDone)
      pool.push(conn)
    }
    if (conn) conn.send(request, sentAt)
    else queue.push(sentAt)
  }

  const start = performance.now() + 5
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      while (sent < total && start + sent * interval <= now) {
        const sentAt = performance.now()
        lags.push(sentAt - (start + sent * interval))
        sent++
        dispatch(sentAt)
      }
      if (sent < total) setTimeout(tick, 1)
      else resolve()
    }
    setTimeout(tick, 5)
  })
  // Bounded wait for the answers still in flight.
  const deadline = performance.now() + 10_000
  while (completed < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  for (const conn of pool) conn.destroy()
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
