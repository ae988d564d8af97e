import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startEmulator } from '../../scripts/lib/workers.js'

/**
 * Starts, once for the whole run, the IAM + serverless API emulator in workerd on
 * 127.0.0.1 with its state in a temporary directory, for the admin tests that
 * need a real IAM API (registering keys, proving a secret); removes it after.
 * Its admin secret (which acts as the organisation owner's API key) is new each run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminSecret = randomUUID()
  const persistDir = await mkdtemp(join(tmpdir(), 'edgegw-test-emulator-'))
  const emulator = await startEmulator({
    port: { port: 0, what: 'emulator', envVar: 'EDGEGW_EMULATOR_PORT' },
    persistDir,
    adminSecret,
    organizationId: '7a1e0c55-2f4b-4d1a-9c3e-5b6d7e8f9a01',
  })
  project.provide('emulatorUrl', emulator.url)
  project.provide('emulatorAdminSecret', adminSecret)
  return async () => {
    await emulator.dispose()
    await rm(persistDir, { recursive: true, force: true })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulatorUrl: string
    emulatorAdminSecret: string
  }
}
