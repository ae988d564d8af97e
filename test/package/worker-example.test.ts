import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerApiKey } from '../../src/sync/register-api-key.js'
import type { RegistryKv } from '../../src/sync/registry.js'
import { startTestStack, type TestStack } from '../stack/support.js'
import { repoPath, run } from './support.js'

const REALM = 'Bearer realm="edge-auth-gateway"'
const config = repoPath('examples/worker/wrangler.toml')

let outDir: string
let testStack: TestStack
let mf: Miniflare

/** A request to the example Worker, as a client sends it. */
async function call(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return (await mf.dispatchFetch(`http://example.test${path}`, { headers })) as unknown as Response
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'edgegw-example-worker-'))
  // Type-checked, then bundled by wrangler itself, as `wrangler deploy` would upload it.
  const typecheck = await run('tsc', ['-p', repoPath('examples/worker')])
  expect(typecheck.stdout + typecheck.stderr).toBe('')
  const bundle = await run('wrangler', ['deploy', '--dry-run', '--outdir', outDir, '--config', config])
  expect(bundle.status, bundle.stderr).toBe(0)

  // The IAM the example syncs from: the local stack's emulator, seeded (applications, policies, keys).
  testStack = await startTestStack()
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler')
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config)
  mf = new Miniflare({
    modules: true,
    modulesRoot: outDir,
    scriptPath: join(outDir, 'index.js'),
    compatibilityDate: workerOptions.compatibilityDate ?? '2026-04-20',
    kvNamespaces: workerOptions.kvNamespaces ?? {},
    bindings: {
      ...workerOptions.bindings,
      IAM_API_URL: testStack.stack.emulatorUrl,
      SCW_ORGANIZATION_ID: testStack.stack.fixture.organizationId,
      IAM_API_TOKEN: testStack.stack.secrets.apiKeys.gateway!.secretKey,
    },
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await testStack?.cleanup()
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

describe('examples/worker: edgeAuth in a Worker that runs its own sync (syncKeySet)', () => {
  it('answers 503 keyset_unavailable with Retry-After before the first sync, never 401', async () => {
    const res = await call('/hello/whoami', { 'x-auth-token': testStack.stack.secrets.apiKeys.demo!.secretKey })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ code: 'keyset_unavailable' })
    expect((await call('/')).status).toBe(200)
  })

  it('after registerApiKey and one run of its scheduled handler, lets the demo key through with its identity', async () => {
    const kv = (await mf.getKVNamespace('KEYSET')) as unknown as RegistryKv
    const { demo, noGrant } = testStack.stack.secrets.apiKeys
    await registerApiKey(kv, { accessKey: demo!.accessKey, secretKey: demo!.secretKey })
    await registerApiKey(kv, { accessKey: noGrant!.accessKey, secretKey: noGrant!.secretKey })
    const worker = await mf.getWorker()
    expect(await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date() })).toMatchObject({ outcome: 'ok' })

    const res = await call('/hello/whoami', { 'x-auth-token': demo!.secretKey })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      method: 'iam-api-key',
      credentialId: demo!.accessKey,
      principal: { type: 'application', id: testStack.stack.secrets.applications!.demo, name: 'edgegw-demo' },
      organizationId: testStack.stack.fixture.organizationId,
      keyKind: 'service',
    })
  })

  it.each<[string, number, string, () => Record<string, string>, string]>([
    ['no credential', 401, 'credentials_missing', () => ({}), REALM],
    ['a key IAM does not know', 401, 'api_key_unknown', () => ({ 'x-auth-token': '2f0d6c1e-8b3a-4e57-9c12-7a4b5e6f8d90' }), `${REALM}, error="invalid_token", error_description="The API key is not known."`],
    ['a key without a grant', 403, 'permission_denied', () => ({ 'x-auth-token': testStack.stack.secrets.apiKeys.noGrant!.secretKey }), `${REALM}, error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"`],
  ])('then refuses %s: %i %s with its challenge', async (_case, status, code, headers, challenge) => {
    const res = await call('/hello/whoami', headers())
    expect(res.status).toBe(status)
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(await res.json()).toMatchObject({ code, status })
  })
})
