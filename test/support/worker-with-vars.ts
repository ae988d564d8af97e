import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../src/worker.js'
import type { GatewayEnv } from '../../src/settings.js'

/**
 * Calls the real Worker with some vars changed from the test bindings (as another
 * `wrangler.toml` would), for settings that one test binding cannot cover both ways.
 */
export async function workerWithVars(vars: Partial<Record<keyof GatewayEnv, string>>, url: string, init: RequestInit<RequestInitCfProperties> = {}): Promise<Response> {
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(url, init) as Request<unknown, IncomingRequestCfProperties>, { ...env, ...vars } as never, ctx)
  await waitOnExecutionContext(ctx)
  return res
}
