/** Test bindings of the admin and sync tests (vitest.config.ts, project `workers`). */
declare global {
  namespace Cloudflare {
    interface Env {
      /** The JWKS endpoint of test/support/jwks-global-setup.ts. */
      JWKS_SERVER_URL: string
    }
  }
}

export {}
