/** The benchmark's printed tables and its verdict on each target of issue 5. */
import type { BundleFigures, StartupFigures } from './bundle-startup.js'
import { median } from './lib/stats.js'
import type { KeySetScaleRow } from './keyset-scale.js'
import type { RequestPathResult } from './request-path.js'
import type { VerifyCostRow } from './verify-cost.js'

/** Everything one run measured, as written to bench-results/latest.json. */
export interface BenchResults {
  date: string
  durationSeconds: number
  environment: Record<string, string | number>
  settings: Record<string, number | string>
  requestPath?: RequestPathResult
  bundle?: BundleFigures
  /** The edge (data-plane) Worker, src/edge-worker.ts as wrangler.edge.toml deploys it. */
  edgeBundle?: BundleFigures
  startup?: StartupFigures
  verifyCost?: VerifyCostRow[]
  keySetScale?: KeySetScaleRow[]
  targets: TargetVerdict[]
}

/** One target of the issue, and whether this run met it. */
export interface TargetVerdict {
  target: string
  subject: string
  value: string
  met: boolean
  /** How far from the threshold, signed so that negative means missed. */
  margin: string
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-')

function table(headers: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The request-path table: req/s, ratio to the bare proxy, p50, p99, CPU per request. */
export function requestPathTable(result: RequestPathResult): string {
  const bare = result.variants.find((v) => v.id === 'bare')!
  return table(
    ['', 'variant', 'req/s', '× bare', 'p50 ms', 'p99 ms', 'p99 +ms', 'rate/own', 'CPU µs/req', 'CPU × bare', 'unexpected'],
    result.variants.map((v) => [
      v.letter,
      v.label,
      fixed(v.requestsPerSecond, 0),
      fixed(v.ratioToBare, 2),
      fixed(v.p50Ms, 2),
      fixed(v.p99Ms, 2),
      v.id === 'bare' ? '' : fixed(v.p99AddedMs, 2),
      `${fixed(v.rateShareOfCapacity * 100, 0)}%`,
      fixed(v.cpuMicrosPerRequest, 0),
      fixed(v.cpuMicrosPerRequest / bare.cpuMicrosPerRequest, 2),
      String(v.failures),
    ]),
    [false, false, true, true, true, true, true, true, true, true, true],
  )
}

export function verifyTable(rows: VerifyCostRow[]): string {
  return table(
    ['verification', 'cold µs', 'cached µs'],
    rows.map((r) => [r.label, r.coldMicros === null ? '-' : fixed(r.coldMicros, 0), r.cachedMicros === null ? '-' : fixed(r.cachedMicros, r.cachedMicros < 10 ? 2 : 0)]),
    [false, true, true],
  )
}

export function keySetTable(rows: KeySetScaleRow[]): string {
  return table(
    ['keys', 'shards', 'build+write ms', 'KV values', 'writer peak MB', 'cold lookup ms', 'of which KV ms', 'KV reads', 'warm ms', 'reader +MB 1 shard', 'reader +MB all shards'],
    rows.map((r) => [
      r.keys.toLocaleString('en'),
      String(r.shards),
      String(r.buildWriteMs),
      String(r.kvValuesWritten),
      fixed(r.writerPeakMb, 1),
      fixed(r.coldLookupMs, 2),
      fixed(r.coldLookupKvMs, 2),
      String(r.coldLookupKvReads),
      fixed(r.warmLookupMs, 3),
      fixed(r.readerOneShardMb, 1),
      fixed(r.readerAllShardsMb, 1),
    ]),
    [true, true, true, true, true, true, true, true, true, true, true],
  )
}

/** Checks every target of issue 5 against what this run measured. */
export function verdicts(results: Omit<BenchResults, 'targets'>): TargetVerdict[] {
  const out: TargetVerdict[] = []
  const rp = results.requestPath
  if (rp) {
    const by = new Map(rp.variants.map((v) => [v.id, v]))
    const bare = by.get('bare')!
    // Issue 14: every warm authenticated path, the condition variant included.
    const warm = ['apikey', 'hs256', 'rs256', 'es256', 'legacy', 'condition'].flatMap((id) => by.get(id) ?? [])
    for (const v of warm) {
      out.push({ target: 'warm authenticated path ≥ 0.9× bare proxy throughput', subject: `${v.letter} ${v.label}`, value: `${v.ratioToBare.toFixed(2)}×`, met: v.ratioToBare >= 0.9, margin: `${(v.ratioToBare - 0.9).toFixed(2)}×` })
    }
    for (const v of warm) {
      const ratio = v.cpuMicrosPerRequest / bare.cpuMicrosPerRequest
      out.push({ target: 'warm authenticated path ≤ 1.15× bare proxy CPU per request', subject: `${v.letter} ${v.label}`, value: `${ratio.toFixed(2)}×`, met: ratio <= 1.15, margin: `${(1.15 - ratio).toFixed(2)}×` })
    }
    for (const v of warm) {
      out.push({ target: `p99 added ≤ 1 ms at ${rp.latencyRate} req/s (half the bare proxy's throughput${rp.pinned ? ', pinned' : ', not pinned'})`, subject: `${v.letter} ${v.label}`, value: `${v.p99AddedMs.toFixed(2)} ms`, met: v.p99AddedMs <= 1, margin: `${(1 - v.p99AddedMs).toFixed(2)} ms` })
    }
    const refused = by.get('refused')
    if (refused) out.push({ target: 'refused requests ≥ 1.5× bare proxy throughput', subject: `${refused.letter} ${refused.label}`, value: `${refused.ratioToBare.toFixed(2)}×`, met: refused.ratioToBare >= 1.5, margin: `${(refused.ratioToBare - 1.5).toFixed(2)}×` })
    for (const id of ['hs256', 'rs256', 'es256', 'legacy']) {
      const v = by.get(id)
      const naive = v && by.get(v.naive!)
      if (!v || !naive) continue
      // Within each round, then the median, as for the ratio to the bare proxy.
      const ratio = median(v.rounds.map((x, r) => x.throughput.requestsPerSecond / naive.rounds[r]!.throughput.requestsPerSecond))
      out.push({ target: 'ahead of the naive alternative (req/s)', subject: `${v.letter} vs ${naive.letter} ${naive.label}`, value: `${ratio.toFixed(2)}×`, met: ratio > 1, margin: `${(ratio - 1).toFixed(2)}×` })
    }
  }
  if (results.bundle) {
    const g = results.bundle.gzipKiB
    out.push({ target: 'single Worker (control plane) bundle ≤ 80 KiB gzip', subject: 'src/worker.ts as wrangler.toml deploys it', value: `${g} KiB`, met: g <= 80, margin: `${(80 - g).toFixed(2)} KiB` })
  }
  if (results.edgeBundle) {
    const g = results.edgeBundle.gzipKiB
    out.push({ target: 'edge Worker bundle ≤ 80 KiB gzip', subject: 'src/edge-worker.ts as wrangler.edge.toml deploys it', value: `${g} KiB`, met: g <= 80, margin: `${(80 - g).toFixed(2)} KiB` })
  }
  const big = results.keySetScale?.find((r) => r.keys === 100_000)
  if (big) {
    out.push({ target: 'cold lookup in a 100k-key set ≤ 5 ms', subject: 'KvKeySetStore, new store', value: `${big.coldLookupMs} ms`, met: big.coldLookupMs <= 5, margin: `${(5 - big.coldLookupMs).toFixed(2)} ms` })
  }
  return out
}

export function targetsTable(targets: TargetVerdict[]): string {
  return table(
    ['', 'target', 'subject', 'measured', 'margin'],
    targets.map((t) => [t.met ? 'met' : 'MISSED', t.target, t.subject, t.value, t.margin]),
    [false, false, false, true, true],
  )
}
