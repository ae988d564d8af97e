import type { WorkerEnv as GatewayEnv } from '../src/worker.js'

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import('../src/worker.js')
    }
    interface Env extends GatewayEnv {
      ORIGINS_URL: string
      CLOSED_ORIGIN_URL: string
      SCRIPTED_API_URL: string
      /** Keys of the scale project's run (vitest.config.ts). */
      SCALE_KEYS?: string
    }
  }
}
