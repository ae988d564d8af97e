import type { EmulatorStore } from '../../src/emulator/store.js'

declare global {
  namespace Cloudflare {
    // The emulator project's bindings (vitest.config.ts, project `emulator`).
    interface Env {
      EMULATOR: DurableObjectNamespace<EmulatorStore>
      EMULATOR_ADMIN_SECRET: string
    }
  }
}
