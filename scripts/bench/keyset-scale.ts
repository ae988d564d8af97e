/**
 * Key-set scale: for 1k, 10k and 100k API keys, the time to build and write the
 * sharded key set into KV (the sync's `writeKeySet`), the KV reads and time of a
 * cold first lookup (a new store: manifest + config + one shard), a warm lookup,
 * and memory: the writer's peak and the reader's growth with one shard, then with
 * every shard, in memory.
 *
 * Runs in `workerd serve` (lib/workerd.ts): the KV service in one process, and for
 * each size a fresh writer process and a fresh reader process, so that each one's
 * memory is its own (resident set from /proc: the isolate's heap and everything
 * workerd allocates for it). Times are measured from Node around HTTP round trips,
 * minus the round trip of an empty request.
 *
 *   node --import tsx scripts/bench/keyset-scale.ts [--sizes 1000,10000,100000]
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorker } from '../lib/bundle.js'
import { tempDir } from './lib/processes.js'
import { median, round } from './lib/stats.js'
import { renderConfig, startWorkerd, type Workerd } from './lib/workerd.js'

/** Figures of one key-set size. */
export interface KeySetScaleRow {
  keys: number
  shards: number
  /** `writeKeySet` of the whole set: build, hash, write every part, switch the manifest (ms). */
  buildWriteMs: number
  kvValuesWritten: number
  /** Peak resident memory of the writer's workerd above its level before the write (MB). */
  writerPeakMb: number
  coldLookupKvReads: number
  coldLookupMs: number
  /** Of which the three KV reads alone, unparsed (loopback to the in-config KV service). */
  coldLookupKvMs: number
  warmLookupMs: number
  /** Growth of the reader's resident memory once one shard is held (MB). */
  readerOneShardMb: number
  /** Growth of the reader's resident memory once every shard is held (MB); the store keeps up to 512 parts. */
  readerAllShardsMb: number
}

const MB = 1024 * 1024

async function call(base: string, path: string): Promise<{ ms: number; body: any }> {
  const started = performance.now()
  const res = await fetch(`${base}${path}`)
  const text = await res.text()
  const ms = performance.now() - started
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`)
  return { ms, body: JSON.parse(text) }
}

async function roundTrip(base: string): Promise<number> {
  const samples: number[] = []
  for (let s = 0; s < 30; s++) samples.push((await call(base, '/noop')).ms)
  return median(samples.slice(10))
}

/**
 * Measures each size.
 * @throws {Error} when a key that was written cannot be found.
 */
export async function benchKeySetScale(options: { sizes: number[]; samples: number; log: (line: string) => void }): Promise<KeySetScaleRow[]> {
  const temp = tempDir('edgegw-scale-')
  const dir = temp.path
  const running: Workerd[] = []
  const fresh = async (name: string, kvAddress: string) => {
    const w = await startWorkerd({
      dir,
      name,
      sockets: [name],
      config: renderConfig([{ name, module: 'scale.js', bindings: [{ name: 'KEYSET', kvNamespace: 'kv' }] }], [{ name: 'kv', external: { address: kvAddress } }]),
    })
    running.push(w)
    return w
  }
  const done = async (w: Workerd) => {
    await w.stop()
    running.splice(running.indexOf(w), 1)
  }
  try {
    writeFileSync(join(dir, 'kv-service.js'), await bundleWorker(fileURLToPath(new URL('./workers/kv-service.ts', import.meta.url))))
    writeFileSync(join(dir, 'scale.js'), await bundleWorker(fileURLToPath(new URL('./keyset-scale-worker.ts', import.meta.url))))
    const kv = await startWorkerd({ dir, name: 'kv', sockets: ['kv'], config: renderConfig([{ name: 'kv', module: 'kv-service.js' }]) })
    running.push(kv)
    const kvAddress = kv.url('kv').replace('http://', '')
    const rows: KeySetScaleRow[] = []
    for (const n of options.sizes) {
      const writer = await fresh('writer', kvAddress)
      const wBase = writer.url('writer')
      const wNoop = await roundTrip(wBase)
      await call(wBase, `/prepare?n=${n}`)
      const before = writer.memory().rss
      const write = await call(wBase, '/write')
      const writerPeakMb = (writer.memory().peakRss - before) / MB
      await done(writer)

      const reader = await fresh('reader', kvAddress)
      const rBase = reader.url('reader')
      const noop = await roundTrip(rBase)
      const cold: number[] = []
      const kvOnly: number[] = []
      const warm: number[] = []
      let coldReads = 0
      // Untimed: the first calls compile the lookup path (JIT), which a cold key set in a warm isolate does not pay again.
      for (let s = 0; s < 3; s++) await call(rBase, `/lookup?mode=cold&i=${s}`)
      for (let s = 0; s < options.samples; s++) {
        const i = (s * 7919) % n
        const c = await call(rBase, `/lookup?mode=cold&i=${i}`)
        if (c.body.found === null) throw new Error(`key ${i} of ${n} not found`)
        coldReads = c.body.kvReads
        cold.push(c.ms - noop)
        kvOnly.push((await call(rBase, `/kv-reads?i=${i}`)).ms - noop)
        await call(rBase, `/lookup?mode=warm&i=${i}`)
        warm.push((await call(rBase, `/lookup?mode=warm&i=${i}`)).ms - noop)
      }
      // Memory of a reader: its level now (code, warm-up garbage collected or not), then with one shard held, then every shard.
      const base = reader.memory().rss
      await call(rBase, `/hold?i=${n - 1}`)
      const oneShard = reader.memory().rss
      const touched = await call(rBase, `/touch-all?n=${n}`)
      const allShards = reader.memory().rss
      await done(reader)

      const row: KeySetScaleRow = {
        keys: n,
        shards: write.body.shards,
        buildWriteMs: round(write.ms - wNoop, 0),
        kvValuesWritten: write.body.partsWritten + 1,
        writerPeakMb: round(writerPeakMb, 1),
        coldLookupKvReads: coldReads,
        coldLookupMs: round(median(cold), 2),
        coldLookupKvMs: round(median(kvOnly), 2),
        warmLookupMs: round(Math.max(0, median(warm)), 3),
        readerOneShardMb: round((oneShard - base) / MB, 1),
        readerAllShardsMb: round((allShards - base) / MB, 1),
      }
      options.log(
        `  key set ${String(n).padStart(7)} keys: ${row.shards} shards, build+write ${row.buildWriteMs} ms (writer peak +${row.writerPeakMb} MB), cold lookup ${row.coldLookupMs} ms (KV reads alone ${row.coldLookupKvMs} ms) / ${row.coldLookupKvReads} KV reads, warm ${row.warmLookupMs} ms, reader +${row.readerOneShardMb} MB (1 shard), +${row.readerAllShardsMb} MB (${touched.body.shardsTouched} shards)`,
      )
      rows.push(row)
    }
    return rows
  } finally {
    for (const w of running.reverse()) await w.stop()
    temp.done()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizesArg = process.argv.indexOf('--sizes')
  const sizes = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [1_000, 10_000, 100_000]
  const rows = await benchKeySetScale({ sizes, samples: 15, log: console.log })
  console.table(rows)
  console.log(`(workerd serve; times minus the round trip of an empty request; 15 samples each, median; Node ${process.version})`)
}
