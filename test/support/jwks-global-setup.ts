import { Miniflare } from 'miniflare'
import type { TestProject } from 'vitest/node'

/**
 * Starts, once for the whole run, a JWKS endpoint in workerd on 127.0.0.1
 * (test/support/jwks-peer-worker.js) that tests fill with keys they generate and
 * can tell to fail; the sync fetches from it over real HTTP.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const jwks = new Miniflare({
    name: 'jwks-peer',
    modules: true,
    scriptPath: decodeURIComponent(new URL('./jwks-peer-worker.js', import.meta.url).pathname),
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: 0,
  })
  project.provide('jwksServerUrl', (await jwks.ready).toString().replace(/\/$/, ''))
  return async () => {
    await jwks.dispose()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    jwksServerUrl: string
  }
}
