import { describe, expect, it } from 'vitest'
import type { GatewayEnv } from '../../src/settings.js'
import { readWorkerConfig, workerConfigProblems, workerConfigWarnings } from '../../src/worker-config.js'

const kv = { get: async () => null } as unknown as KVNamespace
const complete = { KEYSET: kv, ORIGIN_AUTH_TOKEN: 'origin-secret-0c1d' } as GatewayEnv

describe('readWorkerConfig', () => {
  it('accepts a binding and the one required secret, with every var at its default', () => {
    expect(readWorkerConfig(complete)).toMatchObject({ realm: 'edge-auth-gateway', originTimeoutMs: 30_000 })
  })

  it('names the first problem: the binding and secrets before the vars', () => {
    expect(() => readWorkerConfig({ ...complete, ORIGIN_AUTH_TOKEN: undefined, ORIGIN_TIMEOUT_MS: 'x' })).toThrow(/^ORIGIN_AUTH_TOKEN is not set/)
  })
})

describe('workerConfigProblems (npm run check-config)', () => {
  it('finds nothing wrong in a complete configuration', () => {
    expect(workerConfigProblems(complete)).toEqual([])
  })

  it('lists every problem, each naming its setting, none holding a value', () => {
    const broken = {
      KEYSET: undefined,
      CREDENTIAL_ENCRYPTION_KEY: 'short-9e2f',
      IAM_API_TOKEN: 'iam-secret-9e2f',
      ORIGIN_TIMEOUT_MS: 'soon-9e2f',
      ACCESS_LOG: 'verbose-9e2f',
      LEGACY_SUNSET_AT: 'later-9e2f',
    } as unknown as GatewayEnv
    const problems = workerConfigProblems(broken)
    expect(problems.map((p) => p.setting)).toEqual([
      'KEYSET',
      'ORIGIN_AUTH_TOKEN',
      'CREDENTIAL_ENCRYPTION_KEY',
      'SCW_ORGANIZATION_ID',
      'ORIGIN_TIMEOUT_MS',
      'LEGACY_SUNSET_AT',
      'ACCESS_LOG',
    ])
    for (const problem of problems) expect(problem.message).not.toContain('9e2f')
  })

  it('warns about what runs without the optional secrets', () => {
    expect(workerConfigWarnings(complete).map((w) => w.setting)).toEqual(['IAM_API_TOKEN', 'ADMIN_TOKEN', 'CREDENTIAL_ENCRYPTION_KEY'])
    expect(workerConfigWarnings({ ...complete, IAM_API_TOKEN: 'a', ADMIN_TOKEN: 'b', CREDENTIAL_ENCRYPTION_KEY: 'c'.repeat(32) })).toEqual([])
  })
})
