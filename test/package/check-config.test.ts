import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoPath, run } from './support.js'

let dir: string

/** Writes a wrangler.toml (the repository's, with some vars changed) and a .dev.vars beside it. */
async function configure(name: string, vars: Record<string, string>, devVars: Record<string, string> | undefined): Promise<string> {
  let toml = (await readFile(repoPath('wrangler.toml'), 'utf8')).replace('main = "src/worker.ts"', `main = "${repoPath('src/worker.ts')}"`)
  for (const [key, value] of Object.entries(vars)) toml = toml.replace(new RegExp(`^${key} = .*$`, 'm'), `${key} = ${JSON.stringify(value)}`)
  const config = join(dir, `${name}.toml`)
  await writeFile(config, toml)
  // wrangler dev reads .dev.vars beside the configuration: one directory per case.
  if (devVars) await writeFile(join(dir, '.dev.vars'), Object.entries(devVars).map(([k, v]) => `${k}=${v}\n`).join(''))
  else await rm(join(dir, '.dev.vars'), { force: true })
  return config
}

const checkConfig = (...args: string[]) => run('node', ['--import', 'tsx', 'scripts/check-config.ts', ...args])

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgegw-check-config-'))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

const complete = {
  ORIGIN_AUTH_TOKEN: 'origin-secret-7a3e',
  ADMIN_TOKEN: 'admin-secret-7a3e',
  IAM_API_TOKEN: 'iam-secret-7a3e',
  CREDENTIAL_ENCRYPTION_KEY: 'an-encryption-key-of-40-characters-7a3e',
}

describe('npm run check-config', () => {
  it('--local: a complete configuration (wrangler.toml and .dev.vars) is ready: exit 0, secrets named, no value printed', async () => {
    const config = await configure('complete', { SCW_ORGANIZATION_ID: '7719a78c-85c2-4eba-9a77-c5649ab96be8' }, complete)
    const result = await checkConfig('--local', '--config', config)
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain('check-config: ok')
    expect(result.stdout).toContain('secrets: ADMIN_TOKEN, CREDENTIAL_ENCRYPTION_KEY, IAM_API_TOKEN, ORIGIN_AUTH_TOKEN')
    expect(result.stdout).not.toContain('7a3e')
    expect(result.status).toBe(0)
  })

  it('--local: names every missing secret and bad var, never their values: exit 1', async () => {
    const { ORIGIN_AUTH_TOKEN: _missing, ...devVars } = complete
    const config = await configure('broken', { ORIGIN_TIMEOUT_MS: 'soon-7a3e', ACCESS_LOG: 'verbose-7a3e' }, { ...devVars, CREDENTIAL_ENCRYPTION_KEY: 'short-7a3e' })
    const result = await checkConfig('--local', '--config', config)
    const problems = result.stdout.split('\n').filter((line) => line.startsWith('  ✗ ')).map((line) => line.slice(4).split(' ')[0])
    expect(problems).toEqual(['ORIGIN_AUTH_TOKEN', 'CREDENTIAL_ENCRYPTION_KEY', 'SCW_ORGANIZATION_ID', 'ORIGIN_TIMEOUT_MS', 'ACCESS_LOG'])
    expect(result.stdout).not.toContain('7a3e')
    expect(result.status).toBe(1)
  })

  it('before a deploy: the placeholder KV namespace id of wrangler.toml is a problem', async () => {
    const config = await configure('placeholder', { SCW_ORGANIZATION_ID: '7719a78c-85c2-4eba-9a77-c5649ab96be8' }, undefined)
    const result = await checkConfig('--config', config, '--secret-names', Object.keys(complete).join(','))
    expect(result.stdout).toMatch(/✗ KEYSET has the placeholder namespace id/)
    expect(result.status).toBe(1)
    const deployable = join(dir, 'deployable.toml')
    await writeFile(deployable, (await readFile(config, 'utf8')).replace('id = "00000000000000000000000000000000"', 'id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"'))
    const ready = await checkConfig('--config', deployable, '--secret-names', Object.keys(complete).join(','))
    expect(ready.stdout).toContain('check-config: ok')
    expect(ready.status).toBe(0)
  })

  it('exits 2 when there is no configuration to check', async () => {
    const result = await checkConfig('--local', '--config', join(dir, 'missing.toml'))
    expect(result.stderr).toMatch(/^check-config: /)
    expect(result.status).toBe(2)
  })
})
