import { build, type BuildOptions } from 'esbuild'

function options(entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    write: false,
    minify: false,
    logLevel: 'silent',
  }
}

/** Bundles a Worker entry (TypeScript) into one ES module, as wrangler would. */
export async function bundleWorker(entry: string): Promise<string> {
  return (await bundleWorkerWithMap(entry, { sourcemap: false })).code
}

/**
 * {@link bundleWorker}, and with `sourcemap` the source map (JSON, sources relative
 * to the repository's working directory), for the profiler to name source lines.
 */
export async function bundleWorkerWithMap(entry: string, opts: { sourcemap: boolean }): Promise<{ code: string; map?: string }> {
  const result = await build({ ...options(entry), ...(opts.sourcemap ? { sourcemap: 'external', outfile: 'worker.js', sourceRoot: '' } : {}) })
  const file = result.outputFiles?.find((f) => !f.path.endsWith('.map'))
  if (!file) throw new Error(`bundleWorker: esbuild produced nothing for ${entry}`)
  const map = result.outputFiles?.find((f) => f.path.endsWith('.map'))
  return { code: file.text, ...(map ? { map: map.text } : {}) }
}
