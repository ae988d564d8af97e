import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoPath, run, stop, waitForOutput } from './support.js'

// The secrets of examples/node/keyset.json's two demo keys (demo values, documented there).
const DEMO_SECRET = '6f1c2a9e-3b7d-4c55-9a21-0d8e4f6b7c3a'
const NO_GRANT_SECRET = '0b9e7d3c-5a14-4f62-8c07-2e6d9a1f4b85'
const REALM = 'Bearer realm="edge-auth-gateway"'

let server: ChildProcess
let url: string

beforeAll(async () => {
  // Type-checked and built as its README says (`npm run build` in examples/node), against the built package.
  const build = await run('npm', ['run', 'build'], { cwd: repoPath('examples/node') })
  expect(build.stderr + build.stdout).not.toMatch(/error TS/)
  expect(build.status).toBe(0)
  server = spawn('node', ['dist/server.js'], { cwd: repoPath('examples/node'), env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] })
  url = (await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!
})

afterAll(async () => {
  if (server) expect(await stop(server)).toBe(0)
})

describe('examples/node: edgeAuth on Node.js with @hono/node-server and a staticKeySet snapshot', () => {
  it('lets the demo key through and sets the identity', async () => {
    const res = await fetch(`${url}/hello/whoami`, { headers: { 'x-auth-token': DEMO_SECRET } })
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(JSON.parse(body)).toEqual({
      method: 'iam-api-key',
      credentialId: 'SCWDEMO0000000000001',
      principal: { type: 'application', id: '0d3f6a55-7a61-4d2e-9d43-6f0b7e1c2a90', name: 'edgegw-demo' },
      organizationId: '7719a78c-85c2-4eba-9a77-c5649ab96be8',
      keyKind: 'service',
    })
    expect(body).not.toContain(DEMO_SECRET)
  })

  it.each<[string, number, string, Record<string, string>, string]>([
    ['no credential', 401, 'credentials_missing', {}, REALM],
    ['an unknown key', 401, 'api_key_unknown', { authorization: 'Bearer 2f0d6c1e-8b3a-4e57-9c12-7a4b5e6f8d90' }, `${REALM}, error="invalid_token", error_description="The API key is not known."`],
    ['a key without a grant', 403, 'permission_denied', { 'x-auth-token': NO_GRANT_SECRET }, `${REALM}, error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"`],
  ])('refuses %s: %i %s with its challenge', async (_case, status, code, headers, challenge) => {
    const res = await fetch(`${url}/hello/whoami`, { headers })
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(await res.json()).toMatchObject({ code, status })
  })

  it('leaves the routes outside /hello alone', async () => {
    const res = await fetch(`${url}/`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('public\n')
  })
})
