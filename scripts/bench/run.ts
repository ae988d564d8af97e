/**
 * `npm run bench`: the benchmark of issue 5, all on 127.0.0.1 in `workerd serve`.
 *
 *   npm run bench                     # the full run (about 4 minutes on 2 cores)
 *   npm run bench -- --quick          # a short smoke run (figures not comparable)
 *   npm run bench -- --rounds 5       # more rounds of the request-path comparison
 *   npm run bench -- --breakdown      # two more variants that tell where the gateway's cost goes
 *   npm run bench -- --pin            # workerd (variants) on core 0, load generator and infra on core 1 (taskset)
 *   npm run bench -- --only b,g,i     # the request-path phase alone, for these variants and the bare proxy
 *   npm run bench -- --only b,g,i --throughput-only   # and without the fixed-rate latency rounds
 *   npm run bench -- --profile b,c,i,g  # V8 CPU profiles of those variants under load (scripts/bench/profile.ts), nothing else
 *
 * Prints the tables and writes bench-results/latest.json. docs/benchmarks.md says
 * what each figure means.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchBundleAndStartup } from './bundle-startup.js'
import { benchKeySetScale } from './keyset-scale.js'
import { AUTOCANNON_VERSION } from './lib/load.js'
import { WORKERD_VERSION } from './lib/workerd.js'
import { keySetTable, requestPathTable, targetsTable, verdicts, verifyTable, type BenchResults } from './report.js'
import { benchRequestPath, type RequestPathOptions } from './request-path.js'
import { benchVerifyCost } from './verify-cost.js'

const args = process.argv.slice(2)
if (args.includes('--profile')) {
  const { profileMain } = await import('./profile.js')
  await profileMain(args)
  process.exit(0)
}
const quick = args.includes('--quick')
const breakdown = args.includes('--breakdown')
const pin = args.includes('--pin')
const onlyArg = args.indexOf('--only')
const only = onlyArg >= 0 ? (args[onlyArg + 1] ?? '').split(',').filter(Boolean) : undefined
const throughputOnly = args.includes('--throughput-only')
const roundsArg = args.indexOf('--rounds')
const rounds = roundsArg >= 0 ? Math.max(1, Math.min(20, Number(args[roundsArg + 1]) || 3)) : quick ? 1 : 4
const log = (line: string) => console.log(line)
const started = performance.now()

const settings: Omit<RequestPathOptions, 'log'> = quick
  ? { rounds, throughputSeconds: 1, latencySeconds: 1, warmupSeconds: 0.5, connections: 16, latencyLoadFraction: 0.5, breakdown, pin, throughputOnly, ...(only ? { only } : {}) }
  : { rounds, throughputSeconds: 2.5, latencySeconds: 2.5, warmupSeconds: 1, connections: 16, latencyLoadFraction: 0.5, breakdown, pin, throughputOnly, ...(only ? { only } : {}) }
const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]

const git = (...a: string[]) => {
  try {
    return execFileSync('git', a, { encoding: 'utf8', cwd: fileURLToPath(new URL('../../', import.meta.url)) }).trim()
  } catch {
    return 'unknown'
  }
}

const results: Omit<BenchResults, 'targets'> = {
  date: new Date().toISOString(),
  durationSeconds: 0,
  environment: {
    node: process.version,
    workerd: WORKERD_VERSION,
    autocannon: AUTOCANNON_VERSION,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    commit: git('rev-parse', '--short', 'HEAD'),
    workingTreeChanged: git('status', '--porcelain', '--', 'src') === '' ? 'no' : 'yes (src/ has uncommitted changes)',
    server: 'workerd serve with a generated config (no Miniflare in the request path)',
  },
  settings: { ...settings, breakdown: breakdown ? 'yes' : 'no', pin: pin ? 'yes' : 'no', throughputOnly: throughputOnly ? 'yes' : 'no', only: only?.join(',') ?? 'all', keySetSizes: sizes.join(','), quick: quick ? 'yes' : 'no' },
}

log(`edge-auth-gateway benchmark${quick ? ' (--quick: short runs, figures not comparable)' : ''}: Node ${process.version}, workerd ${WORKERD_VERSION}, autocannon ${AUTOCANNON_VERSION}, ${cpus().length} cores`)
if (only) {
  // A targeted run: the request-path phase alone.
  log(`\nRequest path only (${only.join(', ')} and the bare proxy): ${settings.rounds} round(s); ${settings.throughputSeconds} s closed loop, ${settings.latencySeconds} s at a fixed rate${pin ? '; pinned' : ''}`)
  const rp = await benchRequestPath({ ...settings, log })
  log(`\n== Request path (medians of ${settings.rounds} round(s); latency at ${rp.latencyRate} req/s${rp.pinned ? `; ${rp.pinned}` : ''}) ==`)
  log(requestPathTable(rp))
  log(`CPU during the rounds, cores on average of ${cpus().length}: this benchmark ${rp.machine.benchCores.toFixed(2)}, other processes ${rp.machine.otherCores.toFixed(2)}`)
  process.exit(0)
}
log('\n[1/4] Worker bundle and startup')
const { bundle, edgeBundle, startup } = await benchBundleAndStartup({ runs: quick ? 2 : 5, log })
results.bundle = bundle
results.edgeBundle = edgeBundle
results.startup = startup

log(`\n[2/4] Request path: ${settings.rounds} round(s), variants interleaved; ${settings.throughputSeconds} s closed loop (${settings.connections} connections), ${settings.latencySeconds} s at a fixed rate`)
results.requestPath = await benchRequestPath({ ...settings, log })

log('\n[3/4] Verification cost per algorithm')
results.verifyCost = await benchVerifyCost({ batches: quick ? 3 : 7, log })

log('\n[4/4] Key-set scale')
results.keySetScale = await benchKeySetScale({ sizes, samples: quick ? 5 : 15, log })

results.durationSeconds = Math.round((performance.now() - started) / 1000)
const targets = verdicts(results)
const rp = results.requestPath

log(`\n== Request path (${rp.server}; medians of ${settings.rounds} round(s); latency at ${rp.latencyRate} req/s${rp.pinned ? `; ${rp.pinned}` : ''}) ==`)
log(requestPathTable(rp))
log(`origin stub called directly at ${rp.latencyRate} req/s (this machine's loopback floor): p50 ${rp.floor.p50Ms.toFixed(2)} ms, p99 ${rp.floor.p99Ms.toFixed(2)} ms`)
log(`refused requests that reached the origin: ${rp.originRequestsDuringRefused}`)
log(`KV reads during the closed-loop runs: ${rp.variants.map((v) => `${v.letter} ${v.kvReadsPerRequest < 0.001 ? `${Math.round(v.kvReadsPerRequest * v.rounds.reduce((n, x) => n + x.throughput.requests, 0))} in all` : `${v.kvReadsPerRequest.toFixed(2)}/req`}`).join(', ')}`)
log(`CPU during the rounds, cores on average of ${cpus().length}: this benchmark ${rp.machine.benchCores.toFixed(2)}, other processes ${rp.machine.otherCores.toFixed(2)}, stolen by the hypervisor ${rp.machine.stealCores.toFixed(2)}${rp.machine.otherCores > 0.2 ? ' (others competed for the cores: throughput and latency are noisy, CPU µs/req much less)' : ''}`)
log(`\n== Worker ==\nbundle: ${bundle.uploadKiB} KiB, ${bundle.gzipKiB} KiB gzip (${bundle.tool})`)
log(`edge Worker bundle: ${edgeBundle.uploadKiB} KiB, ${edgeBundle.gzipKiB} KiB gzip (${edgeBundle.tool})`)
log(`startup (median of ${startup.runs}): listening ${startup.gatewayListenMs} ms, first 200 ${startup.gatewayFirst200Ms} ms after spawn; bare proxy ${startup.bareListenMs} / ${startup.bareFirst200Ms} ms`)
log('\n== Verification cost (µs per verification, workerd) ==')
log(verifyTable(results.verifyCost))
log('\n== Key-set scale ==')
log(keySetTable(results.keySetScale))
log('\n== Targets ==')
log(targetsTable(targets))

const out = fileURLToPath(new URL('../../bench-results/', import.meta.url))
mkdirSync(out, { recursive: true })
writeFileSync(`${out}latest.json`, `${JSON.stringify({ ...results, targets }, null, 2)}\n`)
log(`\nwrote bench-results/latest.json; took ${results.durationSeconds} s`)
