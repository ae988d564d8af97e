/**
 * The request path, side by side: every variant served by `workerd serve` on
 * 127.0.0.1 against the same origin stub, closed-loop throughput and fixed-rate
 * latency, variants interleaved round after round, medians reported.
 *
 * Two workerd processes:
 * - "infra": the origin stub, the KV service (Workers KV in memory, behind the
 *   `kvNamespace` bindings) and the JWKS server of the naive `hono/jwk` variant;
 * - "variants": one Worker (one isolate) and one socket per variant. Its CPU time
 *   is the Workers' alone: origin, KV and JWKS work happens in "infra", as it
 *   happens outside the Worker in production.
 */
import { execFileSync } from 'node:child_process'
import { ALL_VARIANTS, startBenchStack, type BenchStack } from './lib/bench-stack.js'
import { tempDir } from './lib/processes.js'
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult } from './lib/load.js'
import { machineCpu, selfCpuSeconds } from './lib/machine.js'
import { median } from './lib/stats.js'

export { ALL_VARIANTS, bundleBenchWorkers, type VariantSpec } from './lib/bench-stack.js'

/** Durations and sizes of the phase. */
export interface RequestPathOptions {
  rounds: number
  /** Seconds of each closed-loop run. */
  throughputSeconds: number
  /** Seconds of each fixed-rate run. */
  latencySeconds: number
  /** Seconds of warm-up per variant (not measured). */
  warmupSeconds: number
  /** Connections of the closed loop. */
  connections: number
  /** Fixed rate, as a fraction of the bare proxy's closed-loop throughput. */
  latencyLoadFraction: number
  /** Add the breakdown variants (x1, x2). */
  breakdown: boolean
  /**
   * Pin the variants' workerd to core 0, and the load generator (this process) and the
   * infra workerd to core 1 (`taskset`), so that the fixed-rate latency is measured
   * with the Worker on a core of its own, on a 2-core machine too.
   */
  pin?: boolean
  /** Skip the fixed-rate latency rounds (a quicker throughput and CPU comparison). */
  throughputOnly?: boolean
  /** Only these variants (letters or ids; the bare proxy always runs): a quicker targeted run. */
  only?: string[]
  log: (line: string) => void
}

/** One round of one variant. */
export interface VariantRound {
  throughput: ClosedLoopResult & { cpuSeconds: number; cpuMicrosPerRequest: number; kvReads: number }
  latency?: OpenLoopResult
}

/** Medians over the rounds, per variant. */
export interface VariantSummary {
  id: string
  letter: string
  label: string
  requestsPerSecond: number
  ratioToBare: number
  p50Ms: number
  p99Ms: number
  p99AddedMs: number
  cpuMicrosPerRequest: number
  /** KV reads the variant made per request during the closed-loop runs (the gateway's warm path: none). */
  kvReadsPerRequest: number
  failures: number
  latencyAchievedRate: number
  /** The fixed rate as a share of this variant's own closed-loop throughput (≥ 1: saturated). */
  rateShareOfCapacity: number
  naive?: string
  rounds: VariantRound[]
}

export interface RequestPathResult {
  server: string
  /** With `pin`: where each process ran. */
  pinned?: string
  latencyRate: number
  /** The origin stub called directly at the same rate, no Worker in between: the floor of this machine's loopback latency. */
  floor: { p50Ms: number; p99Ms: number }
  originRequestsDuringRefused: number
  /**
   * CPU used during the measured rounds, in cores on average: by the benchmark's own
   * processes (load generator, the two workerd), by every other process of the
   * machine, and stolen by the hypervisor. Other processes compete for the same cores.
   */
  machine: { seconds: number; benchCores: number; otherCores: number; stealCores: number }
  variants: VariantSummary[]
}

/**
 * Runs the whole request-path comparison.
 * @throws {Error} when a variant does not answer as expected (so that a broken variant is never timed).
 */
export async function benchRequestPath(options: RequestPathOptions): Promise<RequestPathResult> {
  const temp = tempDir('edgegw-bench-')
  const dir = temp.path
  const only = options.only
  const selected = ALL_VARIANTS.filter((v) => (only ? v.id === 'bare' || only.includes(v.letter) || only.includes(v.id) : options.breakdown || !v.breakdown))
  const unpin = options.pin ? pinSelf(1) : undefined
  let stack: BenchStack | undefined
  try {
    stack = await startBenchStack({ dir, selected, ...(options.pin ? { variantsWrap: ['taskset', '-c', '0'], infraWrap: ['taskset', '-c', '1'] } : {}) })
    const { infra, variants, originUrl, target } = stack
    options.log(`request path: workerd serve ${variants.pid} (variants) and ${infra.pid} (origin, KV, JWKS); every variant answers as expected`)

    // Warm-up: JIT, key imports, the key set in memory, connection pools.
    for (const v of selected) {
      const { url, shape } = target(v.id)
      await closedLoop({ url, headers: shape.headers, connections: options.connections, seconds: options.warmupSeconds, expectStatus: shape.expectStatus })
    }

    // Interleaved: every round runs every variant once, each round in another order (rotated), so that
    // neither drift nor a position in the round favours a variant.
    const rotated = (r: number) => selected.map((_, i) => selected[(i + r * 4) % selected.length]!)
    const rounds = new Map<string, VariantRound[]>(selected.map((v) => [v.id, []]))
    const own = () => variants.cpuSeconds() + infra.cpuSeconds() + selfCpuSeconds()
    const machine0 = machineCpu()
    const own0 = own()
    const wall0 = performance.now()
    const kvReads = async () => ((await (await fetch(`${infra.url('kv')}/__kv/stats`)).json()) as { reads: number }).reads
    const originServed = async () => ((await (await fetch(`${originUrl}/__origin/stats`)).json()) as { served: number }).served
    let originDuringRefused = 0
    for (let r = 0; r < options.rounds; r++) {
      for (const v of rotated(r)) {
        const { url, shape } = target(v.id)
        // Let the previous variant's last subrequests land first: they are not this variant's.
        if (v.id === 'refused') await new Promise((r) => setTimeout(r, 300))
        const before = v.id === 'refused' ? await originServed() : 0
        const kv0 = await kvReads()
        const cpu0 = variants.cpuSeconds()
        const result = await closedLoop({ url, headers: shape.headers, connections: options.connections, seconds: options.throughputSeconds, expectStatus: shape.expectStatus })
        const cpuSeconds = variants.cpuSeconds() - cpu0
        if (v.id === 'refused') {
          await new Promise((r) => setTimeout(r, 300))
          originDuringRefused += (await originServed()) - before
        }
        const kvReadCount = (await kvReads()) - kv0
        rounds.get(v.id)!.push({ throughput: { ...result, cpuSeconds, cpuMicrosPerRequest: (cpuSeconds * 1e6) / result.requests, kvReads: kvReadCount } })
        options.log(`  throughput round ${r + 1}/${options.rounds} ${v.letter.padEnd(2)} ${v.id.padEnd(11)} ${Math.round(result.requestsPerSecond)} req/s, ${Math.round((cpuSeconds * 1e6) / result.requests)} µs CPU/req${result.failures ? `, ${result.failures} unexpected` : ''}`)
      }
    }
    const bareRps = median(rounds.get('bare')!.map((x) => x.throughput.requestsPerSecond))
    const latencyRate = Math.max(50, Math.round(bareRps * options.latencyLoadFraction))
    const floors: OpenLoopResult[] = []
    for (let r = 0; r < (options.throughputOnly ? 0 : options.rounds); r++) {
      const floor = await openLoop({ url: `${originUrl}/floor`, headers: {}, rate: latencyRate, seconds: options.latencySeconds, expectStatus: 200, connections: options.connections })
      floors.push(floor)
      options.log(`  latency    round ${r + 1}/${options.rounds} -  origin stub direct (floor) at ${latencyRate} req/s: p50 ${floor.p50.toFixed(3)} ms, p99 ${floor.p99.toFixed(3)} ms`)
      for (const v of rotated(r)) {
        const { url, shape } = target(v.id)
        const result = await openLoop({ url, headers: shape.headers, rate: latencyRate, seconds: options.latencySeconds, expectStatus: shape.expectStatus, connections: options.connections })
        rounds.get(v.id)![r]!.latency = result
        options.log(`  latency    round ${r + 1}/${options.rounds} ${v.letter.padEnd(2)} ${v.id.padEnd(11)} at ${latencyRate} req/s: p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms${result.failures ? `, ${result.failures} failed` : ''}`)
      }
    }

    const wallSeconds = (performance.now() - wall0) / 1000
    const machine1 = machineCpu()
    const ownSeconds = own() - own0
    const machine = {
      seconds: Math.round(wallSeconds),
      benchCores: ownSeconds / wallSeconds,
      otherCores: Math.max(0, machine1.busySeconds - machine0.busySeconds - ownSeconds) / wallSeconds,
      stealCores: (machine1.stealSeconds - machine0.stealSeconds) / wallSeconds,
    }
    options.log(`  CPU during the rounds (cores on average): benchmark ${machine.benchCores.toFixed(2)}, other processes ${machine.otherCores.toFixed(2)}, stolen by the hypervisor ${machine.stealCores.toFixed(2)}`)
    // Ratios and added latency are taken within each round (against that round's bare proxy), then the median:
    // what drifts between rounds cancels out.
    const bareRounds = rounds.get('bare')!
    const summaries: VariantSummary[] = selected.map((v) => {
      const rs = rounds.get(v.id)!
      const rps = median(rs.map((x) => x.throughput.requestsPerSecond))
      return {
        id: v.id,
        letter: v.letter,
        label: v.label,
        requestsPerSecond: rps,
        ratioToBare: median(rs.map((x, r) => x.throughput.requestsPerSecond / bareRounds[r]!.throughput.requestsPerSecond)),
        p50Ms: median(rs.map((x) => x.latency?.p50 ?? NaN)),
        p99Ms: median(rs.map((x) => x.latency?.p99 ?? NaN)),
        p99AddedMs: median(rs.map((x, r) => (x.latency?.p99 ?? NaN) - (bareRounds[r]!.latency?.p99 ?? NaN))),
        cpuMicrosPerRequest: median(rs.map((x) => x.throughput.cpuMicrosPerRequest)),
        kvReadsPerRequest: rs.reduce((n, x) => n + x.throughput.kvReads, 0) / rs.reduce((n, x) => n + x.throughput.requests, 0),
        failures: rs.reduce((n, x) => n + x.throughput.failures + (x.latency?.failures ?? 0), 0),
        latencyAchievedRate: median(rs.map((x) => x.latency?.achievedRate ?? NaN)),
        rateShareOfCapacity: latencyRate / rps,
        ...(v.naive ? { naive: v.naive } : {}),
        rounds: rs,
      }
    })
    return {
      server: 'workerd serve (generated config), no Miniflare in the request path',
      ...(options.pin ? { pinned: 'variants workerd on core 0; load generator (Node) and infra workerd on core 1 (taskset)' } : {}),
      latencyRate,
      floor: floors.length ? { p50Ms: median(floors.map((f) => f.p50)), p99Ms: median(floors.map((f) => f.p99)) } : { p50Ms: NaN, p99Ms: NaN },
      originRequestsDuringRefused: originDuringRefused,
      machine,
      variants: summaries,
    }
  } finally {
    await stack?.stop()
    unpin?.()
    temp.done()
  }
}

/**
 * Pins this process (every thread: the load generator) to one core with `taskset`;
 * returns what restores its former affinity.
 * @throws {Error} when `taskset` (util-linux) is missing.
 */
function pinSelf(core: number): () => void {
  const mask = /:\s*([0-9a-f]+)\s*$/.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }))?.[1]
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' })
  return () => {
    if (mask) execFileSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' })
  }
}
