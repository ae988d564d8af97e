/** Test bindings of the admin and sync tests (vitest.config.ts, project `workers`). */
declare global {
  namespace Cloudflare {
    interface Env {
      /** The JWKS endpoint of test/support/jwks-global-setup.ts. */
      JWKS_SERVER_URL: string
      /** The IAM + serverless API emulator of test/support/emulator-global-setup.ts. */
      EMULATOR_URL: string
      /** Its admin secret: the organisation owner's API key there. */
      EMULATOR_ADMIN_SECRET: string
    }
  }
}

export {}
