import type { TestProject } from 'vitest/node'
import { startOrigins } from '../../scripts/lib/origins.js'

/** The origin credential the test gateway and the test origins share. */
export const TEST_ORIGIN_TOKEN = 'test-origin-credential-0f3c'

/** Starts the demo origins once for the whole run, in workerd on 127.0.0.1, and stops them after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origins = await startOrigins({ port: 0, originToken: TEST_ORIGIN_TOKEN, recordRequests: true })
  project.provide('originsUrl', origins.url)
  // A port that was free a moment ago and is closed now: "origin down".
  const closed = await startOrigins({ port: 0, originToken: TEST_ORIGIN_TOKEN })
  project.provide('closedOriginUrl', closed.url)
  await closed.dispose()
  return () => origins.dispose()
}

declare module 'vitest' {
  export interface ProvidedContext {
    originsUrl: string
    closedOriginUrl: string
  }
}
