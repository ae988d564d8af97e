/**
 * Verification cost per algorithm, in workerd: for each consumer-JWT algorithm,
 * the legacy token and the API key, the time of one verification with a key
 * imported for the occasion ("cold") and with the key already imported
 * ("cached"); plus hono's `verify` (what the naive variants do per request).
 * Each figure is the median of several batches of N verifications, timed from
 * Node around one HTTP round trip minus the round trip of an empty request.
 */
import { SignJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, type CryptoKey as JoseKey, type JWK } from 'jose'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { CONSUMER_ALGORITHMS, type ConsumerAlgorithm, type JwtCredential } from '../../src/keyset/jwt-schema.js'
import type { KeySetSource, Target } from '../../src/keyset/schema.js'
import { sealSecret } from '../../src/keyset/secret-box.js'
import { bundleWorker } from '../lib/bundle.js'
import { tempDir } from './lib/processes.js'
import { API_KEY_SECRET, CONSUMER, CREDENTIAL_ENCRYPTION_KEY, LEGACY_TOKEN_ID, NAMESPACE, ORG, PROJECT, pkcs1Pem } from './fixtures.js'
import { median } from './lib/stats.js'
import { renderConfig, startWorkerd, type Workerd } from './lib/workerd.js'
import type { VerifyCase } from './workers/verify-cost.js'

const TOKEN_ID = LEGACY_TOKEN_ID
const MASTER = CREDENTIAL_ENCRYPTION_KEY
const API_KEY = API_KEY_SECRET

/** Microseconds per verification. */
export interface VerifyCostRow {
  id: string
  label: string
  coldMicros: number | null
  cachedMicros: number | null
}

async function cases(): Promise<{ cases: VerifyCase[]; source: KeySetSource; encryptionKey: string; target: Target; labels: Record<string, string> }> {
  const now = Math.floor(Date.now() / 1000)
  const credentials: Record<string, JwtCredential> = {}
  const list: VerifyCase[] = []
  const labels: Record<string, string> = {}
  // One RSA key serves RS* and PS* (the import, not the key, carries the algorithm).
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const rsaPkcs8 = await exportPKCS8(rsa.privateKey)
  const signer = async (alg: ConsumerAlgorithm): Promise<{ key: Uint8Array | JoseKey; publicKeyPem?: string; secret?: Uint8Array }> => {
    if (alg.startsWith('HS')) {
      const secret = crypto.getRandomValues(new Uint8Array(Number(alg.slice(2)) / 8))
      return { key: secret, secret }
    }
    if (alg.startsWith('RS') || alg.startsWith('PS')) return { key: await importPKCS8(rsaPkcs8, alg), publicKeyPem: await exportSPKI(rsa.publicKey) }
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
    return { key: pair.privateKey, publicKeyPem: await exportSPKI(pair.publicKey) }
  }
  for (const [i, alg] of CONSUMER_ALGORITHMS.entries()) {
    const id = `d0000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    const material = await signer(alg)
    const key = `bench-${alg.toLowerCase()}`
    credentials[key] = material.secret
      ? { id, consumerId: CONSUMER, key, algorithm: alg, secret: await sealSecret(material.secret, MASTER, id) }
      : { id, consumerId: CONSUMER, key, algorithm: alg, publicKeyPem: material.publicKeyPem! }
    const token = await new SignJWT({ iss: key }).setProtectedHeader({ alg }).setIssuedAt(now).setExpirationTime(now + 3600).sign(material.key)
    list.push({ id: alg, kind: 'consumer', token })
    labels[alg] = `consumer JWT ${alg}`
  }
  const legacyKey = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  const legacyToken = await new SignJWT({ application_claim: [{ namespace_id: NAMESPACE, application_id: '' }] })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer('SCALEWAY')
    .setAudience('functions')
    .setJti(TOKEN_ID)
    .setIssuedAt(now)
    .sign(legacyKey.privateKey)
  list.push({ id: 'legacy', kind: 'legacy', token: legacyToken })
  labels.legacy = 'legacy serverless JWT (RS256, PKCS#1 key)'
  list.push({ id: 'api-key', kind: 'api-key', token: API_KEY })
  labels['api-key'] = 'IAM API key (SHA-256 + lookup)'
  // Not a verification: what counting an accepted request costs (src/usage), per request.
  list.push({ id: 'usage', kind: 'usage', token: '', perCall: 100 })
  labels.usage = 'usage count per request (map increment; flush each 500)'

  // What the naive variants run on each request: hono's verify, which imports the key every time.
  const honoSecret = 'bench-naive-secret-0123456789abcdef'
  list.push({ id: 'hono-hs256', kind: 'hono', alg: 'HS256', honoKey: honoSecret, token: await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 3600).sign(new TextEncoder().encode(honoSecret)) })
  labels['hono-hs256'] = 'naive: hono/jwt verify HS256 (imports each time)'
  list.push({ id: 'hono-rs256', kind: 'hono', alg: 'RS256', honoKey: { ...((await exportJWK(rsa.publicKey)) as JWK), alg: 'RS256' }, token: await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(now + 3600).sign(rsa.privateKey) })
  labels['hono-rs256'] = 'naive: hono/jwk verify RS256 (imports each time)'

  const source: KeySetSource = {
    routes: [],
    projects: { [PROJECT]: ORG },
    apiKeys: {
      [await apiKeyDigest(API_KEY)]: {
        accessKey: 'SCW0BENCH00000000001',
        bearer: { type: 'application', id: '55555555-5555-4555-8555-555555555555' },
        organizationId: ORG,
        expiresAt: null,
        grants: [{ permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects', projectIds: [PROJECT] } }],
      },
    },
    consumers: { consumers: { [CONSUMER]: { id: CONSUMER, username: 'bench', groups: [] } }, credentials },
    legacy: {
      namespaces: { [NAMESPACE]: { kind: 'function', projectId: PROJECT, publicKeyPem: pkcs1Pem(await exportJWK(legacyKey.publicKey)) } },
      tokens: { [TOKEN_ID]: { namespaceId: NAMESPACE, expiresAt: null } },
    },
  }
  const target: Target = { url: 'http://origin.test', kind: 'function', projectId: PROJECT, namespaceId: NAMESPACE, privacy: 'private' }
  return { cases: list, source, encryptionKey: MASTER, target, labels }
}

async function timed(url: string): Promise<number> {
  const started = performance.now()
  const res = await fetch(url)
  const body = await res.text()
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`)
  return performance.now() - started
}

/**
 * Measures every case, cold and cached.
 * @throws {Error} when a verification fails (a broken case is never timed).
 */
export async function benchVerifyCost(options: { batches: number; log: (line: string) => void }): Promise<VerifyCostRow[]> {
  const temp = tempDir('edgegw-verify-')
  const dir = temp.path
  let workerd: Workerd | undefined
  try {
    const { labels, ...binding } = await cases()
    writeFileSync(join(dir, 'verify.js'), await bundleWorker(new URL('./workers/verify-cost.ts', import.meta.url).pathname))
    workerd = await startWorkerd({ dir, name: 'verify', sockets: ['verify'], config: renderConfig([{ name: 'verify', module: 'verify.js', bindings: [{ name: 'CASES', json: binding }] }]) })
    const base = workerd.url('verify')
    const noops: number[] = []
    for (let i = 0; i < 30; i++) noops.push(await timed(`${base}/noop`))
    const noop = median(noops.slice(10))
    const rows: VerifyCostRow[] = []
    for (const c of binding.cases) {
      const modes = c.kind === 'hono' || c.kind === 'api-key' || c.kind === 'usage' ? (['cached'] as const) : (['cold', 'cached'] as const)
      const row: VerifyCostRow = { id: c.id, label: labels[c.id] ?? c.id, coldMicros: null, cachedMicros: null }
      for (const mode of modes) {
        // Size the batch so that it lasts ~15 ms: far above the round trip's noise.
        await timed(`${base}/run?case=${c.id}&mode=${mode}&n=3`)
        const probe = Math.max(0.001, ((await timed(`${base}/run?case=${c.id}&mode=${mode}&n=20`)) - noop) / 20)
        const n = Math.min(2000, Math.max(20, Math.round(15 / probe)))
        const per: number[] = []
        for (let b = 0; b < options.batches; b++) per.push(((await timed(`${base}/run?case=${c.id}&mode=${mode}&n=${n}`)) - noop) / n)
        const micros = Math.max(0, (median(per) * 1000) / (c.perCall ?? 1))
        if (mode === 'cold') row.coldMicros = micros
        else row.cachedMicros = micros
      }
      options.log(`  verify ${row.label.padEnd(50)} cold ${row.coldMicros === null ? '     -' : row.coldMicros.toFixed(0).padStart(6)} µs  cached ${row.cachedMicros!.toFixed(row.cachedMicros! < 10 ? 2 : 0).padStart(6)} µs`)
      rows.push(row)
    }
    return rows
  } finally {
    await workerd?.stop()
    temp.done()
  }
}
