/**
 * The edge (data-plane) Worker as `wrangler deploy -c wrangler.edge.toml` would
 * upload it: under the project's 80 KiB gzip, and without the control plane's
 * code (admin API, OpenAPI, sync, key-set owner, usage ledger). The figures come
 * from wrangler's own dry run and its esbuild metafile.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, type CommandResult } from './support.js'

/** The project's ceiling for a deployed Worker (README "Deploy"). */
const MAX_GZIP_KIB = 80

let dir: string
let dryRun: CommandResult
let bundled: string[]

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgegw-edge-bundle-'))
  dryRun = await run('wrangler', ['deploy', '--dry-run', '-c', 'wrangler.edge.toml', '--outdir', join(dir, 'out'), '--metafile', join(dir, 'meta.json')], { env: { NO_COLOR: '1', FORCE_COLOR: '0' } })
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> }
  // The modules that put at least one byte into the uploaded script.
  bundled = Object.values(meta.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the edge Worker bundle (wrangler.edge.toml)', () => {
  it(`is under ${MAX_GZIP_KIB} KiB gzip, as wrangler deploy --dry-run reports it`, () => {
    expect(dryRun.status, dryRun.stdout + dryRun.stderr).toBe(0)
    const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(dryRun.stdout + dryRun.stderr)
    expect(match, dryRun.stdout).not.toBeNull()
    expect(Number(match![2])).toBeLessThan(MAX_GZIP_KIB)
  })

  it('holds the request path and none of the control plane', () => {
    expect(bundled).toEqual(expect.arrayContaining(['src/edge-worker.ts', 'src/gateway.ts', 'src/keyset/kv-store.ts', 'src/usage/usage-recorder.ts']))
    // The request path reads the sync status (src/sync/status.ts) to refuse a stale key set: the one sync/ module it needs.
    const controlPlane = bundled.filter((path) => /^src\/admin\/|^src\/sync\/(?!status\.ts$)|openapi|to-json-schema|manifest-owner|usage-ledger|src\/worker\.ts$/.test(path))
    expect(controlPlane).toEqual([])
  })
})
