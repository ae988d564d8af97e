import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { bundleWorker } from './bundle.js'

const entry = fileURLToPath(new URL('../../src/emulator/origins.ts', import.meta.url))

/** A running demo-origins Worker on 127.0.0.1. */
export interface RunningOrigins {
  url: string
  dispose(): Promise<void>
}

/** Starts the demo private origins in workerd, on 127.0.0.1 (port 0 picks a free one). */
export async function startOrigins(options: { port: number; originToken: string; recordRequests?: boolean }): Promise<RunningOrigins> {
  const mf = new Miniflare({
    name: 'origins',
    modules: true,
    script: await bundleWorker(entry),
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: options.port,
    bindings: { ORIGIN_AUTH_TOKEN: options.originToken, RECORD_REQUESTS: options.recordRequests ? 'true' : 'false' },
  })
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return { url, dispose: () => mf.dispose() }
}
