import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { bundleWorker } from '../../scripts/lib/bundle.js'
import { startOrigins } from '../../scripts/lib/origins.js'

/** The origin credential the test gateway and the test origins share. */
export const TEST_ORIGIN_TOKEN = 'test-origin-credential-0f3c'

/**
 * Starts, once for the whole run, in workerd on 127.0.0.1: the demo origins, and a
 * scripted API peer for the API client tests; stops them after.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origins = await startOrigins({ port: 0, originToken: TEST_ORIGIN_TOKEN, recordRequests: true })
  project.provide('originsUrl', origins.url)
  // A port that was free a moment ago and is closed now: "origin down".
  const closed = await startOrigins({ port: 0, originToken: TEST_ORIGIN_TOKEN })
  project.provide('closedOriginUrl', closed.url)
  await closed.dispose()
  const scripted = new Miniflare({
    name: 'scripted-api',
    modules: true,
    script: await bundleWorker(fileURLToPath(new URL('./scripted-api.ts', import.meta.url))),
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: 0,
  })
  project.provide('scriptedApiUrl', (await scripted.ready).toString().replace(/\/$/, ''))
  return async () => {
    await Promise.all([origins.dispose(), scripted.dispose()])
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    originsUrl: string
    closedOriginUrl: string
    scriptedApiUrl: string
  }
}
