/**
 * The sync Workflow at 100,000 keys (SCALE_KEYS), with wrangler.toml's production budget
 * of SYNC_STEP_SUBREQUESTS subrequests a step: the emulator seeded through its bulk path,
 * every key captured, one run from nothing, then one that changes nothing. Prints one
 * `scale.result` JSON line that `npm run scale` (scripts/scale.ts) reads; docs/scale.md.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { bulkAccessKey } from '../../src/emulator/bulk-keys.js'
import { readManifest } from '../../src/keyset/writer.js'
import { lookup, seed, sync } from '../flow/support.js'

const KEYS = Number(env.SCALE_KEYS ?? 100_000)
const BUDGET = Number(env.SYNC_STEP_SUBREQUESTS)
/** Keys a listing page holds (the IAM API's page_size maximum). */
const PAGE = 100

describe(`the sync Workflow at ${KEYS.toLocaleString('en')} keys, ${BUDGET} subrequests a step`, () => {
  let seedMs = 0
  beforeAll(async () => {
    const started = Date.now()
    await seed(KEYS)
    seedMs = Date.now() - started
  })

  it('syncs every key in a bounded number of steps, none over the budget; the next sync writes nothing', async () => {
    const first = await sync('scale')
    expect(first.ok).toBe(true)
    const busiest = first.steps.reduce((max, s) => (s.subrequests > max.subrequests ? s : max))
    const kinds = (o: typeof first) => Object.fromEntries([...new Set(o.steps.map((s) => s.step.replace(/ #\d+$/, '')))].map((k) => [k, o.steps.filter((s) => s.step.replace(/ #\d+$/, '') === k).length]))
    const kvWrites = (o: typeof first) => o.steps.reduce((n, s) => n + s.kvWrites, 0)
    const again = await sync('scale-again')
    console.log(
      JSON.stringify({
        event: 'scale.result',
        keys: KEYS,
        budget: BUDGET,
        seed_ms: seedMs,
        first: { ms: first.ms, steps: first.steps.length, kinds: kinds(first), max_step_subrequests: busiest.subrequests, busiest_step: busiest.step, kv_writes: kvWrites(first), shards: first.write?.shards },
        unchanged: { ms: again.ms, steps: again.steps.length, kv_writes: kvWrites(again) },
      }),
    )

    // Every step within one invocation's budget.
    expect(busiest.subrequests).toBeLessThanOrEqual(BUDGET)
    // Steps bounded by the listing: every IAM page and every owner call counted, a step holds
    // at least budget / 4 pages; plus the build steps and a dozen fixed ones.
    const pages = Math.ceil(KEYS / PAGE)
    expect(first.steps.length).toBeLessThanOrEqual(Math.ceil(pages / Math.floor(BUDGET / 4)) * 2 + 12 + 2 * Math.ceil(KEYS / 512 / (BUDGET - 10)) + 2)
    // The key set complete: every key in the manifest's count, first, middle and last found.
    expect(first.write).toMatchObject({ changed: true, apiKeys: KEYS })
    expect((await readManifest(env.KEYSET))!.apiKeys.count).toBe(KEYS)
    for (const i of [0, Math.floor(KEYS / 2), KEYS - 1]) expect((await lookup(i))?.accessKey).toBe(bulkAccessKey(i))
    expect(await lookup(KEYS)).toBeUndefined()
    // Nothing changed: not one KV write.
    expect(again.write).toMatchObject({ changed: false, manifestWritten: false, partsWritten: 0 })
    expect(kvWrites(again)).toBe(0)
  })
})
