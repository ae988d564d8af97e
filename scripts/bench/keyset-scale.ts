/**
 * Key-set scale: for 1k, 10k and 100k API keys, the time to build and write the
 * sharded key set into KV, the KV reads and time of a cold first lookup (new
 * isolate state: manifest + config + one shard), and of a warm lookup.
 * Runs in workerd through Miniflare, with real (local) KV; times are measured
 * from Node around HTTP round trips, minus the round trip of an empty request.
 *
 *   node --import tsx scripts/bench/keyset-scale.ts [--sizes 1000,10000,100000]
 */
import { Miniflare } from 'miniflare'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorker } from '../lib/bundle.js'

const sizesArg = process.argv.indexOf('--sizes')
const sizes = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [1_000, 10_000, 100_000]
const SAMPLES = 15

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed(mf: Miniflare, path: string): Promise<{ ms: number; body: any }> {
  const started = performance.now()
  const res = await mf.dispatchFetch(`http://bench${path}`)
  const body = await res.json().catch(() => null)
  return { ms: performance.now() - started, body }
}

const persist = mkdtempSync(join(tmpdir(), 'edgegw-scale-'))
const mf = new Miniflare({
  modules: true,
  script: await bundleWorker(fileURLToPath(new URL('./keyset-scale-worker.ts', import.meta.url))),
  compatibilityDate: '2026-04-20',
  kvNamespaces: ['KEYSET'],
  kvPersist: join(persist, 'kv'),
})
try {
  await mf.ready
  const noopSamples: number[] = []
  for (let s = 0; s < SAMPLES * 2; s++) noopSamples.push((await timed(mf, '/noop')).ms)
  const noop = median(noopSamples.slice(SAMPLES))
  const rows = []
  for (const n of sizes) {
    const write = await timed(mf, `/write?n=${n}`)
    const cold: number[] = []
    const warm: number[] = []
    let coldReads = 0
    for (let s = 0; s < SAMPLES; s++) {
      const i = (s * 7919) % n
      const c = await timed(mf, `/lookup?mode=cold&i=${i}`)
      if (c.body.found === null) throw new Error(`key ${i} not found`)
      coldReads = c.body.kvReads
      cold.push(c.ms - noop)
      await timed(mf, `/lookup?mode=warm&i=${i}`)
      warm.push((await timed(mf, `/lookup?mode=warm&i=${i}`)).ms - noop)
    }
    rows.push({
      keys: n,
      shards: write.body.shards,
      'build+write ms': Math.round(write.ms - noop),
      'KV parts written': write.body.partsWritten + 1,
      'cold lookup KV reads': coldReads,
      'cold lookup ms (p50)': +median(cold).toFixed(2),
      'warm lookup ms (p50)': +median(warm).toFixed(3),
    })
  }
  console.table(rows)
  console.log(`(round trip of an empty request, subtracted: ${noop.toFixed(2)} ms; ${SAMPLES} samples each; Node ${process.version})`)
} finally {
  await mf.dispose()
  rmSync(persist, { recursive: true, force: true })
}
