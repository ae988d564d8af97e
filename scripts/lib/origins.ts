import { Miniflare, type MiniflareOptions } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { bundleWorker } from './bundle.js'

const entry = fileURLToPath(new URL('../../src/emulator/origins.ts', import.meta.url))

/** A running demo-origins Worker on 127.0.0.1. */
export interface RunningOrigins {
  url: string
  dispose(): Promise<void>
}

/** Options of {@link startOrigins}. */
export interface StartOriginsOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number
  /** The credential the origins require in `X-Auth-Token`. */
  originToken: string
  /** Serve `GET /__requests` (the request ids seen), for tests. Default `false`. */
  recordRequests?: boolean
  /** Receives the Worker's console output; when absent, workerd writes it to this process's stdout and stderr. */
  handleStructuredLogs?: MiniflareOptions['handleStructuredLogs']
}

/**
 * Starts the demo private origins in workerd, on 127.0.0.1 (port 0 picks a free one).
 *
 * @throws {MiniflareCoreError} `ERR_ADDRESS_IN_USE` when the port is taken.
 * @example
 * ```ts
 * const origins = await startOrigins({ port: 0, originToken })
 * await fetch(`${origins.url}/functions/hello`, { headers: { 'x-auth-token': originToken } })
 * await origins.dispose()
 * ```
 */
export async function startOrigins(options: StartOriginsOptions): Promise<RunningOrigins> {
  const mf = new Miniflare({
    name: 'origins',
    modules: true,
    script: await bundleWorker(entry),
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: options.port,
    bindings: { ORIGIN_AUTH_TOKEN: options.originToken, RECORD_REQUESTS: options.recordRequests ? 'true' : 'false' },
    ...(options.handleStructuredLogs ? { handleStructuredLogs: options.handleStructuredLogs } : {}),
  })
  let ready: URL
  try {
    ready = await mf.ready
  } catch (error) {
    // A failed start leaves nothing to dispose but may reject again; the start error is the one to report.
    await mf.dispose().catch(() => undefined)
    throw error
  }
  const url = ready.toString().replace(/\/$/, '')
  return { url, dispose: () => mf.dispose() }
}
