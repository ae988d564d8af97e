import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { call, FN, ok, unique } from './support.js'

interface Token {
  id: string
  token: string
  public_key: string
  status: string
  description: string
  expires_at: string | null
  namespace_id?: string
  function_id?: string
}

/**
 * Wraps a PKCS#1 `RSA PUBLIC KEY` PEM in a SubjectPublicKeyInfo (RFC 5280), so
 * that WebCrypto, through jose, reads it: an independent check of the PEM.
 */
function pkcs1ToSpki(pem: string): string {
  const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0))
  const len = (n: number) => (n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff])
  const algorithm = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]
  const bitString = [0x03, ...len(der.length + 1), 0x00, ...der]
  const spki = Uint8Array.from([0x30, ...len(algorithm.length + bitString.length), ...algorithm, ...bitString])
  return `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----`
}

async function namespaceWithFunction(): Promise<{ namespaceId: string; functionId: string }> {
  const ns = await ok<{ id: string }>('POST', `${FN}/namespaces`, { body: { name: unique('ns') } })
  const fn = await ok<{ id: string }>('POST', `${FN}/functions`, { body: { name: 'fn', namespace_id: ns.id, runtime: 'node22', privacy: 'private' } })
  return { namespaceId: ns.id, functionId: fn.id }
}

describe('legacy tokens', () => {
  it('mints an RS256 JWT that verifies against the PKCS#1 public key it comes with', async () => {
    const { namespaceId } = await namespaceWithFunction()
    const expiresAt = new Date(Date.now() + 3_600_000)
    expiresAt.setMilliseconds(0)
    const created = await ok<Token>('POST', `${FN}/tokens`, { body: { namespace_id: namespaceId, description: 'ci', expires_at: expiresAt.toISOString() } })
    expect(Object.keys(created)).toEqual(['description', 'expires_at', 'namespace_id', 'id', 'public_key', 'status', 'token'])
    expect(created).toMatchObject({ namespace_id: namespaceId, status: 'creating', description: 'ci', expires_at: expiresAt.toISOString().replace('.000Z', 'Z') })
    expect(created.public_key).toMatch(/^-----BEGIN RSA PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END RSA PUBLIC KEY-----\n$/)
    expect(decodeProtectedHeader(created.token)).toEqual({ alg: 'RS256', typ: 'JWT' })

    const key = await importSPKI(pkcs1ToSpki(created.public_key), 'RS256')
    const { payload } = await jwtVerify(created.token, key, { algorithms: ['RS256'], issuer: 'SCALEWAY', audience: 'functions' })
    expect(payload).toMatchObject({ application_claim: [{ namespace_id: namespaceId, application_id: '' }], jti: created.id, sub: 'token', exp: expiresAt.getTime() / 1000 })
    expect(payload.iat).toBe(payload.nbf)
  })

  it('names only the function in a function token, and omits exp without expires_at', async () => {
    const { namespaceId, functionId } = await namespaceWithFunction()
    const first = await ok<Token>('POST', `${FN}/tokens`, { body: { namespace_id: namespaceId } })
    const created = await ok<Token>('POST', `${FN}/tokens`, { body: { function_id: functionId } })
    expect(created).toMatchObject({ function_id: functionId, expires_at: null })
    expect('namespace_id' in created).toBe(false)
    // One key per namespace: both tokens come with the same public key.
    expect(created.public_key).toBe(first.public_key)
    const { payload } = await jwtVerify(created.token, await importSPKI(pkcs1ToSpki(created.public_key), 'RS256'))
    expect(payload.application_claim).toEqual([{ namespace_id: '', application_id: functionId }])
    expect(payload.exp).toBeUndefined()
  })

  it('hides the token and the key on get and list', async () => {
    const { namespaceId, functionId } = await namespaceWithFunction()
    const created = await ok<Token>('POST', `${FN}/tokens`, { body: { function_id: functionId } })
    const hidden = { ...created, token: '<hidden>', public_key: '', status: 'ready' }
    expect(await ok('GET', `${FN}/tokens/${created.id}`)).toEqual(hidden)
    const byFunction = await ok<{ tokens: Token[]; total_count: number }>('GET', `${FN}/tokens?function_id=${functionId}`)
    expect(byFunction).toEqual({ tokens: [hidden], total_count: 1 })
    const byNamespace = await ok<{ tokens: Token[] }>('GET', `${FN}/tokens?namespace_id=${namespaceId}`)
    expect(byNamespace.tokens.map((t) => t.id)).toEqual([created.id])
    expect(JSON.stringify(byNamespace)).not.toContain(created.token.split('.')[2])
  })

  it('deletes (revokes) a token', async () => {
    const { namespaceId } = await namespaceWithFunction()
    const created = await ok<Token>('POST', `${FN}/tokens`, { body: { namespace_id: namespaceId } })
    expect(await ok<Token>('DELETE', `${FN}/tokens/${created.id}`)).toMatchObject({ id: created.id, status: 'deleting', token: '<hidden>' })
    expect((await call('GET', `${FN}/tokens/${created.id}`)).body).toEqual({ message: 'Token was not found' })
    expect((await call('DELETE', `${FN}/tokens/${created.id}`)).status).toBe(404)
  })

  it.each([
    ['no scope', {}],
    ['two scopes', { namespace_id: crypto.randomUUID(), function_id: crypto.randomUUID() }],
    ['an expiry in the past', { namespace_id: 'NS', expires_at: '2020-01-01T00:00:00Z' }],
  ])('refuses a token with %s', async (_case, body) => {
    const { namespaceId } = await namespaceWithFunction()
    const res = await call('POST', `${FN}/tokens`, { body: JSON.parse(JSON.stringify(body).replace('"NS"', JSON.stringify(namespaceId))) })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ type: 'invalid_arguments' })
  })
})
