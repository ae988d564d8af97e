import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoPath, stopWith, waitForOutput } from './support.js'

// docs/operations.md, "Local: wrangler dev and .dev.vars", followed as written: the repository's
// wrangler.toml with a .dev.vars beside it (here in a temporary directory, so a developer's own
// .dev.vars is never touched).
const ADMIN_TOKEN = 'dev-admin-token-4b8e'

let dir: string
let dev: ChildProcess
let url: string
let printed = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgegw-wrangler-dev-'))
  const toml = (await readFile(repoPath('wrangler.toml'), 'utf8')).replace('main = "src/worker.ts"', `main = "${repoPath('src/worker.ts')}"`)
  await writeFile(join(dir, 'wrangler.toml'), toml)
  await writeFile(join(dir, '.dev.vars'), `ORIGIN_AUTH_TOKEN=dev-origin-credential-4b8e\nADMIN_TOKEN=${ADMIN_TOKEN}\n`)
  dev = spawn(
    repoPath('node_modules/.bin/wrangler'),
    ['dev', '--config', join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', '0', '--inspector-port', '0', '--test-scheduled', '--persist-to', join(dir, 'state')],
    { cwd: repoPath('.'), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  for (const stream of [dev.stdout, dev.stderr]) stream?.on('data', (chunk: Buffer) => void (printed += chunk.toString('utf8')))
  url = (await waitForOutput(dev, /Ready on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
})

afterAll(async () => {
  // Ctrl-C, as in a terminal: wrangler stops its workerd before exiting.
  if (dev) await stopWith(dev, 'SIGINT')
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('wrangler dev with .dev.vars', () => {
  it('takes the secrets from .dev.vars, and prints none of them', () => {
    expect(printed).toMatch(/Using secrets defined in \S*\.dev\.vars/)
    expect(printed).not.toContain('4b8e')
  })

  it('answers 503 keyset_unavailable until the first sync, which /__scheduled runs', async () => {
    const before = await fetch(`${url}/hello`)
    expect(before.status).toBe(503)
    expect(await before.json()).toMatchObject({ code: 'keyset_unavailable' })

    const scheduled = await fetch(`${url}/__scheduled?cron=*/5+*+*+*+*`)
    expect(scheduled.status).toBe(200)
    expect(await scheduled.text()).toBe('Ran scheduled event')

    // A key set without routes: the gateway now answers from it.
    const after = await fetch(`${url}/hello`)
    expect(after.status).toBe(404)
    expect(await after.json()).toMatchObject({ code: 'route_not_found' })
  })

  it('serves the admin API with the ADMIN_TOKEN of .dev.vars', async () => {
    const res = await fetch(`${url}/__edgegw/admin/v1/status`, { headers: { 'x-auth-token': ADMIN_TOKEN } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ keySet: { source: 'sync' }, sync: { lastError: null } })
  })
})
