/**
 * The deployable Worker's size and startup:
 *
 * - size: `wrangler deploy --dry-run --outdir <tmp>`, the artefact `wrangler deploy`
 *   would upload (wrangler.toml has `minify = true`), and the "gzip:" figure
 *   wrangler prints; the same for the edge Worker (`-c wrangler.edge.toml`, the
 *   data plane of a two-Worker deployment: docs/operations.md, "Two Workers");
 * - startup: that same `worker.js` in `workerd serve` with wrangler.toml's vars,
 *   its `KEYSET` binding on the in-config KV service (seeded with the bench key
 *   set) and secrets set; the time from spawning workerd until its socket
 *   listens (the script is parsed and its top level run by then), and until the
 *   first 200 through the gateway with an API key (which also reads the key set
 *   cold from KV: manifest, config, one shard). The bare proxy is measured the
 *   same way, as the floor that workerd itself costs.
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CREDENTIAL_ENCRYPTION_KEY, ORG, ORIGIN_AUTH_TOKEN, makeFixtures, seedKv } from './fixtures.js'
import { own, tempDir } from './lib/processes.js'
import { median, round } from './lib/stats.js'
import { renderConfig, startWorkerd, type Binding, type Workerd } from './lib/workerd.js'
import { bundleBenchWorkers } from './request-path.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))

export interface BundleFigures {
  tool: string
  uploadKiB: number
  gzipKiB: number
}

export interface StartupFigures {
  runs: number
  /** Median ms from spawn until the socket listens. */
  gatewayListenMs: number
  /** Median ms from spawn until the first 200 through the gateway (API key, cold key set). */
  gatewayFirst200Ms: number
  bareListenMs: number
  bareFirst200Ms: number
}

/**
 * Builds the Worker of `config` (a wrangler file of the repository) as `wrangler deploy` would, into `outdir`.
 * @throws {Error} with wrangler's output when it fails or prints no size.
 */
export async function wranglerDryRun(outdir: string, config = 'wrangler.toml'): Promise<BundleFigures & { script: string }> {
  const child = spawn(join(repo, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--config', config, '--outdir', outdir], {
    cwd: repo,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  own(child)
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)))
  clearTimeout(timer)
  // The script is named after the entry: worker.js (wrangler.toml), edge-worker.js (wrangler.edge.toml).
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output)
  if (code !== 0 || !match) throw new Error(`wrangler deploy --dry-run failed (${code}):\n${output.slice(-3000)}`)
  const { version } = JSON.parse(readFileSync(join(repo, 'node_modules/wrangler/package.json'), 'utf8')) as { version: string }
  return { tool: `wrangler ${version} deploy --dry-run${config === 'wrangler.toml' ? '' : ` -c ${config}`}`, uploadKiB: Number(match[1]), gzipKiB: Number(match[2]), script: join(outdir, readdirSync(outdir).find((f) => f.endsWith('.js'))!) }
}

async function firstOk(url: string, headers: Record<string, string>, deadlineMs: number): Promise<void> {
  // Bounded: the socket already listens; retry only transient failures until the deadline.
  for (;;) {
    try {
      const res = await fetch(url, { headers })
      if (res.status === 200) return
      const body = await res.text()
      if (performance.now() > deadlineMs) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`)
    } catch (error) {
      if (performance.now() > deadlineMs) throw error
    }
    await new Promise((r) => setTimeout(r, 2))
  }
}

/**
 * Measures the size of the deployable Worker and the startup of it and of the bare proxy.
 * @throws {Error} when wrangler fails or the Worker does not answer 200.
 */
export async function benchBundleAndStartup(options: { runs: number; log: (line: string) => void }): Promise<{ bundle: BundleFigures; edgeBundle: BundleFigures; startup: StartupFigures }> {
  const temp = tempDir('edgegw-startup-')
  const dir = temp.path
  const running: Workerd[] = []
  try {
    const { script, ...bundle } = await wranglerDryRun(join(dir, 'wrangler-out'))
    options.log(`  bundle: ${bundle.uploadKiB} KiB, gzip ${bundle.gzipKiB} KiB (${bundle.tool})`)
    const { script: _edgeScript, ...edgeBundle } = await wranglerDryRun(join(dir, 'wrangler-out-edge'), 'wrangler.edge.toml')
    options.log(`  edge Worker bundle: ${edgeBundle.uploadKiB} KiB, gzip ${edgeBundle.gzipKiB} KiB (${edgeBundle.tool})`)
    writeFileSync(join(dir, 'worker.js'), readFileSync(script))
    await bundleBenchWorkers(dir, ['origin.js', 'kv-service.js', 'bare-proxy.js'])

    const infra = await startWorkerd({ dir, name: 'infra', sockets: ['origin', 'kv'], config: renderConfig([{ name: 'origin', module: 'origin.js' }, { name: 'kv', module: 'kv-service.js' }]) })
    running.push(infra)
    const fixtures = await makeFixtures(infra.url('origin'))
    await seedKv(infra.url('kv'), fixtures.kv)
    const apiKey = fixtures.requests.apikey!

    const { unstable_readConfig } = await import('wrangler')
    const config = unstable_readConfig({ config: join(repo, 'wrangler.toml') }, { hideWarnings: true })
    // wrangler.toml's vars, but for the bench origin, which is http://127.0.0.1, and an
    // organisation (an IAM token without one is a configuration error: 503 config_invalid).
    const vars: Binding[] = Object.entries({ ...config.vars, ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true', SCW_ORGANIZATION_ID: ORG }).map(([name, value]) => ({ name, text: String(value) }))
    const secrets: Binding[] = [
      { name: 'ORIGIN_AUTH_TOKEN', text: ORIGIN_AUTH_TOKEN },
      { name: 'CREDENTIAL_ENCRYPTION_KEY', text: CREDENTIAL_ENCRYPTION_KEY },
      { name: 'ADMIN_TOKEN', text: 'bench-admin-token-0123456789' },
      { name: 'IAM_API_TOKEN', text: 'bench-iam-token-0123456789' },
    ]
    const services = [
      { name: 'loopback', network: { allow: ['127.0.0.1/32'] } },
      { name: 'kv', external: { address: infra.url('kv').replace('http://', '') } },
    ]
    const measure = async (name: string, module: string, bindings: Binding[], path: string, headers: Record<string, string>) => {
      const listen: number[] = []
      const first: number[] = []
      for (let r = 0; r < options.runs; r++) {
        const started = performance.now()
        const w = await startWorkerd({ dir, name, sockets: [name], config: renderConfig([{ name, module, bindings, globalOutbound: 'loopback' }], services) })
        running.push(w)
        listen.push(w.listenMs)
        await firstOk(`${w.url(name)}${path}`, headers, performance.now() + 10_000)
        first.push(performance.now() - started)
        await w.stop()
        running.pop()
      }
      return { listen: median(listen), first: median(first) }
    }
    const gateway = await measure('gateway', 'worker.js', [...vars, ...secrets, { name: 'KEYSET', kvNamespace: 'kv' }], apiKey.path, apiKey.headers)
    const bare = await measure('bare', 'bare-proxy.js', [{ name: 'ORIGIN_URL', text: infra.url('origin') }], '/fn/hello', {})
    const startup: StartupFigures = {
      runs: options.runs,
      gatewayListenMs: round(gateway.listen, 1),
      gatewayFirst200Ms: round(gateway.first, 1),
      bareListenMs: round(bare.listen, 1),
      bareFirst200Ms: round(bare.first, 1),
    }
    options.log(`  startup (median of ${options.runs}): gateway listens after ${startup.gatewayListenMs} ms, first 200 after ${startup.gatewayFirst200Ms} ms; bare proxy ${startup.bareListenMs} / ${startup.bareFirst200Ms} ms`)
    return { bundle, edgeBundle, startup }
  } finally {
    for (const w of running.reverse()) await w.stop()
    temp.done()
  }
}
