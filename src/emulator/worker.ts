/**
 * The Scaleway IAM v1alpha1 + serverless v1beta1 API emulator, as a Worker
 * (`src/emulator/wrangler.toml`). Point Scaleway's CLI or SDKs at it with
 * `SCW_API_URL=http://127.0.0.1:8788`. See docs/emulator.md.
 */
import { EMULATOR_INSTANCE, type EmulatorEnv } from './config.js'

// Only handlers may be exported from a Worker's entry module: constants live in config.ts.
export { EmulatorStore } from './store.js'
export type { EmulatorEnv } from './config.js'

export default {
  fetch(request, env) {
    if (!env.EMULATOR_ADMIN_SECRET) {
      return Response.json(
        {
          message: 'the emulator has no admin secret: set EMULATOR_ADMIN_SECRET (`wrangler secret put EMULATOR_ADMIN_SECRET`, or a binding in Miniflare) and restart',
          type: 'emulator_misconfigured',
        },
        { status: 500 },
      )
    }
    return env.EMULATOR.get(env.EMULATOR.idFromName(EMULATOR_INSTANCE)).fetch(request)
  },
} satisfies ExportedHandler<EmulatorEnv>
