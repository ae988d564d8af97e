/**
 * `npm run bench -- --profile b,c,i,g` (or `node --import tsx scripts/bench/profile.ts b c i g`):
 * a V8 CPU profile of each named variant under the benchmark's closed-loop load.
 *
 * The same two workerd processes as the request-path benchmark (lib/bench-stack.ts),
 * the variants' one started with `--inspector-addr`; per variant: 1 s of warm-up,
 * then the profiler samples the variant's isolate while autocannon loads it
 * (16 connections, `--seconds`, default 5). Writes
 * bench-results/profiles/<letter>-<id>.cpuprofile (opens in Chrome DevTools) and
 * a .txt beside it, and prints the top entries by self and total time, with
 * source files and lines (esbuild source maps).
 *
 *   --seconds N     seconds of profiled load per variant (default 5)
 *   --interval US   sampling interval in microseconds (default 100)
 *   --top N         rows per table (default 25)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBenchStack, variantByName, type VariantSpec } from './lib/bench-stack.js'
import { freePort, profileTables, sourceMapResolver, summarizeProfile, takeCpuProfile, type ProfileSummary } from './lib/cpu-profile.js'
import { closedLoop } from './lib/load.js'
import { tempDir } from './lib/processes.js'

/** What {@link profileVariants} measured per variant. */
export interface VariantProfile {
  variant: VariantSpec
  requestsPerSecond: number
  cpuMicrosPerRequest: number
  file: string
  summary: ProfileSummary
}

/**
 * Profiles each variant in turn (one workerd for all) and writes the profiles into `outDir`.
 * @throws {Error} when a variant does not answer as expected.
 */
export async function profileVariants(options: { variants: VariantSpec[]; seconds: number; intervalMicros: number; top: number; outDir: string; log: (line: string) => void }): Promise<VariantProfile[]> {
  const temp = tempDir('edgegw-profile-')
  const inspectorPort = await freePort()
  const stack = await startBenchStack({ dir: temp.path, selected: options.variants, sourcemap: true, variantsArgs: [`--inspector-addr=127.0.0.1:${inspectorPort}`] })
  const results: VariantProfile[] = []
  try {
    mkdirSync(options.outDir, { recursive: true })
    for (const v of options.variants) {
      const { url, shape } = stack.target(v.id)
      const load = (seconds: number) => closedLoop({ url, headers: shape.headers, connections: 16, seconds, expectStatus: shape.expectStatus })
      await load(1)
      let measured = { requestsPerSecond: 0, cpuMicrosPerRequest: 0 }
      const profile = await takeCpuProfile({
        inspectorPort,
        service: v.id,
        intervalMicros: options.intervalMicros,
        during: async () => {
          const cpu0 = stack.variants.cpuSeconds()
          const result = await load(options.seconds)
          if (result.failures > 0) throw new Error(`variant ${v.letter}: ${result.failures} unexpected answers under the profiler`)
          measured = { requestsPerSecond: result.requestsPerSecond, cpuMicrosPerRequest: ((stack.variants.cpuSeconds() - cpu0) * 1e6) / result.requests }
        },
      })
      const file = join(options.outDir, `${v.letter}-${v.id}.cpuprofile`)
      writeFileSync(file, JSON.stringify(profile))
      // Every Worker's module is named worker.js in the config (lib/workerd.ts); its map is the variant's bundle's.
      const summary = summarizeProfile(profile, sourceMapResolver({ 'worker.js': join(temp.path, `${v.module}.map`) }), options.top)
      const text = `== ${v.letter} ${v.label}: ${Math.round(measured.requestsPerSecond)} req/s, ${Math.round(measured.cpuMicrosPerRequest)} µs CPU/req under the profiler (sampling every ${options.intervalMicros} µs) ==\n${profileTables(summary)}\n`
      writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), text)
      options.log(`\n${text}\nwrote ${file}`)
      results.push({ variant: v, ...measured, file, summary })
    }
    return results
  } finally {
    await stack.stop()
    temp.done()
  }
}

/** Command line: variant letters or ids, then options. */
export async function profileMain(args: string[], log: (line: string) => void = console.log): Promise<void> {
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) || fallback : fallback
  }
  const names = args.filter((a, i) => !a.startsWith('--') && !['--seconds', '--interval', '--top', '--profile'].includes(args[i - 1] ?? '')).flatMap((a) => a.split(','))
  const listed = args.indexOf('--profile') >= 0 ? (args[args.indexOf('--profile') + 1] ?? '').split(',') : []
  const wanted = [...new Set([...listed, ...names].filter(Boolean))]
  const variants = wanted.map((name) => {
    const v = variantByName(name)
    if (!v) throw new Error(`no variant ${name}: use a letter (a, b, … x3) or an id (bare, apikey, …)`)
    return v
  })
  if (variants.length === 0) throw new Error('name the variants to profile, e.g. --profile b,c,i,g')
  await profileVariants({
    variants,
    seconds: flag('--seconds', 5),
    intervalMicros: flag('--interval', 100),
    top: flag('--top', 25),
    outDir: fileURLToPath(new URL('../../bench-results/profiles/', import.meta.url)),
    log,
  })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await profileMain(process.argv.slice(2))
