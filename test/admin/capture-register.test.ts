import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { adminApi } from '../../src/admin/admin-api.js'
import { adminAuth } from '../../src/admin/admin-auth.js'
import { pkcs1PublicPem } from '../../src/emulator/serverless/signing.js'
import { createGateway } from '../../src/gateway.js'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { KvKeySetStore } from '../../src/keyset/kv-store.js'
import { ApiClient } from '../../src/sync/api-client.js'
import { IamApi } from '../../src/sync/iam-api.js'
import { Registry, registryKeys } from '../../src/sync/registry.js'
import { runSync } from '../../src/sync/run-sync.js'
import { ServerlessApi } from '../../src/sync/serverless-api.js'
import { clearKv, owner } from '../support/admin-api.js'
import { newMarker, originSaw } from '../support/origin.js'
import { audited } from '../support/audited.js'

// The capture endpoints against a real IAM API (the emulator over HTTP): who may be
// registered, proof that the caller holds the secret, and no silent replacement.

const ADMIN_TOKEN = 'capture-tests-admin-token-3f9c'
const REALM = 'Bearer realm="edge-auth-gateway"'
const unknownKey = `${REALM}, error="invalid_token", error_description="The API key is not known."`
const tokenInvalid = `${REALM}, error="invalid_token", error_description="The token is not valid."`

let org: string
let ownerAccessKey: string
let pending: Promise<unknown>[] = []
const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext

const client = (token: string) => new ApiClient({ baseUrl: env.EMULATOR_URL, token, attempts: 1 })
const emulator = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${env.EMULATOR_URL}${path}`, {
    method,
    headers: { 'x-auth-token': env.EMULATOR_ADMIN_SECRET, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

function admin() {
  const iam = new IamApi(client(env.EMULATOR_ADMIN_SECRET))
  const serverless = new ServerlessApi(client(env.EMULATOR_ADMIN_SECRET), 'fr-par')
  const auth = adminAuth({ keySet: () => new KvKeySetStore(env.KEYSET), bootstrapToken: () => ADMIN_TOKEN, organizationId: () => org, realm: 'edge-auth-gateway' })
  const app = new Hono()
  app.route(
    '/admin',
    adminApi(
      () => ({
        kv: env.KEYSET,
        registry: new Registry(env.KEYSET),
        iam,
        serverless,
        organizationId: org,
        iamAs: (secret: string) => new IamApi(client(secret)),
        sync: () => runSync({ kv: env.KEYSET, owner: owner(), apis: { iam, serverless, organizationId: org } }),
        allowInsecureLoopbackOrigins: true,
      }),
      { auth },
    ),
  )
  return app
}

/** Calls the admin API; waits for the background work it started. */
async function call(method: string, path: string, body?: unknown, token = ADMIN_TOKEN) {
  const res = await admin().request(`https://gw.example/admin${path}`, { method, headers: { 'x-auth-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, env, ctx)
  const text = await res.text()
  await Promise.allSettled(pending.splice(0))
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as any, text }
}

/** A request at a gateway that reads the key set KV afresh. */
async function atGateway(path: string, headers: Record<string, string>) {
  const gateway = createGateway({ keySet: () => new KvKeySetStore(env.KEYSET), originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, log: () => undefined })
  const marker = newMarker()
  const res = await gateway.request(`https://gw.example${path}`, { headers: { ...headers, 'x-test-marker': marker } }, env, ctx)
  return { res, body: (await res.json()) as any, saw: await originSaw(marker) }
}

let counter = 0
/** An application with these rules (on its own policy, or through a group) and an API key, made in IAM. */
async function iamKey(rules: Record<string, unknown>[], via: 'policy' | 'group' = 'policy') {
  counter += 1
  const name = `capture-${crypto.randomUUID().slice(0, 8)}-${counter}`
  const application = await emulator('POST', '/iam/v1alpha1/applications', { name, organization_id: org })
  let principal: Record<string, string> = { application_id: application.id }
  if (via === 'group') {
    const group = await emulator('POST', '/iam/v1alpha1/groups', { name: `${name}-group`, organization_id: org })
    await emulator('POST', `/iam/v1alpha1/groups/${group.id}/add-member`, { application_id: application.id })
    principal = { group_id: group.id }
  }
  if (rules.length > 0) await emulator('POST', '/iam/v1alpha1/policies', { name: `${name}-policy`, organization_id: org, rules, ...principal })
  const key = await emulator('POST', '/iam/v1alpha1/api-keys', { application_id: application.id, description: name })
  return { accessKey: key.access_key as string, secret: key.secret_key as string }
}

const invoke = () => [{ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [org] }]
const onOrg = (set: string) => [{ permission_set_names: [set], organization_id: org }]

beforeAll(async () => {
  const info = await emulator('GET', '/emulator/info')
  org = info.organization_id
  ownerAccessKey = info.admin_access_key
})

beforeEach(async () => {
  await clearKv()
  const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: org, privacy: 'private' }
  expect((await call('PUT', '/routes', { routes: [{ id: 'fn', paths: ['/fn'], target }] })).status).toBe(200)
})

afterEach(() => vi.restoreAllMocks())

const captured = async (accessKey: string) => {
  const text = await env.KEYSET.get(registryKeys.apiKey(accessKey))
  return text === null ? null : (JSON.parse(text) as { digest: string; via: string })
}

describe('POST /api-keys/register: whose key', () => {
  it('refuses the organisation owner’s key: the chosen secret then opens neither the gateway nor the admin API', async () => {
    const chosen = crypto.randomUUID()
    const res = await call('POST', '/api-keys/register', { access_key: ownerAccessKey, secret_key: chosen })
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(res.body).toMatchObject({ code: 'key_not_registrable', detail: `${ownerAccessKey}: its bearer is the organisation owner; such keys are not registered (use ADMIN_TOKEN for the admin API)` })
    expect(await captured(ownerAccessKey)).toBeNull()
    expect((await call('POST', '/sync')).body).toMatchObject({ ok: true })

    const edge = await atGateway('/fn', { 'x-auth-token': chosen })
    expect(edge.res.status).toBe(401)
    expect(edge.res.headers.get('www-authenticate')).toBe(unknownKey)
    expect(edge.body.code).toBe('api_key_unknown')
    expect(edge.saw).toBe(false)
    const asAdmin = await call('GET', '/routes', undefined, chosen)
    expect(asAdmin.status).toBe(401)
    expect(asAdmin.headers.get('www-authenticate')).toBe(unknownKey)
  })

  it.each(['policy', 'group'] as const)('refuses a key whose bearer holds IAMManager (through its %s), even with its real secret', async (via) => {
    const manager = await iamKey(onOrg('IAMManager'), via)
    const res = await call('POST', '/api-keys/register', { access_key: manager.accessKey, secret_key: manager.secret })
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ code: 'key_not_registrable', detail: `${manager.accessKey}: its bearer holds IAMManager; such keys are not registered (use ADMIN_TOKEN for the admin API)` })
    expect(await captured(manager.accessKey)).toBeNull()
  })
})

describe('POST /api-keys/register: proof of possession', () => {
  it('refuses a secret IAM does not accept (400 secret_invalid), and the chosen secret opens nothing', async () => {
    const key = await iamKey(invoke())
    const chosen = crypto.randomUUID()
    const res = await call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: chosen })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'secret_invalid', detail: 'secret_key: IAM does not accept this secret (unknown, expired or deleted key)' })
    expect(res.text).not.toContain(chosen)
    expect(await captured(key.accessKey)).toBeNull()
    await call('POST', '/sync')
    const edge = await atGateway('/fn', { 'x-auth-token': chosen })
    expect(edge.res.status).toBe(401)
    expect(edge.res.headers.get('www-authenticate')).toBe(unknownKey)
    expect(edge.saw).toBe(false)
  })

  it('refuses the live secret of another key when IAM’s answer does not fit this key (400 secret_mismatch)', async () => {
    const plain = await iamKey(invoke())
    const reader = await iamKey(onOrg('IAMReadOnly'))
    // The reader's secret reads IAM; the plain key cannot: not its secret.
    const one = await call('POST', '/api-keys/register', { access_key: plain.accessKey, secret_key: reader.secret })
    expect(one.status).toBe(400)
    expect(one.body).toMatchObject({ code: 'secret_mismatch' })
    // The plain key's secret is refused IAM reads; the reader's own would not be.
    const two = await call('POST', '/api-keys/register', { access_key: reader.accessKey, secret_key: plain.secret })
    expect(two.status).toBe(400)
    expect(two.body).toMatchObject({ code: 'secret_mismatch' })
    expect(await captured(plain.accessKey)).toBeNull()
    expect(await captured(reader.accessKey)).toBeNull()
  })

  it.each([
    ['a key without IAM rights (IAM answers 403: authenticated)', () => invoke()],
    ['a key that may read IAM (IAM answers the key itself)', () => [...invoke(), ...onOrg('IAMReadOnly')]],
  ])('registers %s with its real secret, and it works at the edge', async (_, rules) => {
    const key = await iamKey(rules())
    const { result: res, audit, raw } = await audited(() => call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: key.secret, kind: 'ci' }))
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ access_key: key.accessKey, registered: true, replaced: false })
    expect(await captured(key.accessKey)).toMatchObject({ digest: await apiKeyDigest(key.secret), via: 'register' })
    expect(audit).toEqual([{ type: 'audit', actor: { kind: 'admin-token', id: 'ADMIN_TOKEN' }, action: 'api_key.register', target: key.accessKey, replaced: false, request_id: res.headers.get('x-request-id') }])
    for (const line of raw) expect(line).not.toContain(key.secret)
    await call('POST', '/sync')
    const edge = await atGateway('/fn', { 'x-auth-token': key.secret })
    expect(edge.res.status).toBe(200)
    expect(edge.saw).toBe(true)
  })
})

describe('POST /api-keys/register: no silent replacement', () => {
  it('refuses to replace a captured digest (409 capture_exists): the holder keeps working, the newcomer gets nothing', async () => {
    const holder = await iamKey(invoke())
    const other = await iamKey(invoke())
    expect((await call('POST', '/api-keys/register', { access_key: holder.accessKey, secret_key: holder.secret })).status).toBe(201)
    const res = await call('POST', '/api-keys/register', { access_key: holder.accessKey, secret_key: other.secret })
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ code: 'capture_exists', detail: `${holder.accessKey}: a digest is already captured for this key; send "replace": true to replace it` })
    expect(await captured(holder.accessKey)).toMatchObject({ digest: await apiKeyDigest(holder.secret) })
    await call('POST', '/sync')
    expect((await atGateway('/fn', { 'x-auth-token': holder.secret })).res.status).toBe(200)
    const newcomer = await atGateway('/fn', { 'x-auth-token': other.secret })
    expect(newcomer.res.status).toBe(401)
    expect(newcomer.res.headers.get('www-authenticate')).toBe(unknownKey)
    expect(newcomer.saw).toBe(false)
  })

  it('replaces a wrong capture when asked explicitly, with the proof, and says so in the audit line', async () => {
    const key = await iamKey(invoke())
    await new Registry(env.KEYSET).captureKey(key.accessKey, { digest: await apiKeyDigest(crypto.randomUUID()), capturedAt: new Date().toISOString(), via: 'register' })
    expect((await call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: key.secret })).status).toBe(409)
    const { result: res, audit } = await audited(() => call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: key.secret, replace: true }))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ access_key: key.accessKey, registered: true, replaced: true })
    expect(audit).toEqual([expect.objectContaining({ action: 'api_key.register', target: key.accessKey, replaced: true })])
    // replace does not waive the proof.
    const forged = await call('POST', '/api-keys/register', { access_key: key.accessKey, secret_key: crypto.randomUUID(), replace: true })
    expect(forged.status).toBe(400)
    expect(forged.body.code).toBe('secret_invalid')
    expect(await captured(key.accessKey)).toMatchObject({ digest: await apiKeyDigest(key.secret) })
  })
})

describe('POST /legacy-namespace-keys: no silent replacement', () => {
  it('refuses to replace the namespace key captured at minting: a forged token stays refused and never reaches the origin', async () => {
    const namespace = await emulator('POST', '/functions/v1beta1/regions/fr-par/namespaces', { name: `capture-${crypto.randomUUID().slice(0, 8)}`, project_id: org })
    const minted = await call('POST', '/legacy-tokens', { product: 'functions', namespace_id: namespace.id })
    expect(minted.status).toBe(201)
    expect(minted.body.public_key_captured).toBe(true)
    const realPem = JSON.parse((await env.KEYSET.get(registryKeys.namespaceKey(namespace.id)))!).publicKeyPem

    const attacker = await generateKeyPair('RS256', { modulusLength: 2048 })
    const attackerPem = pkcs1PublicPem(await exportJWK(attacker.publicKey))
    const res = await call('POST', '/legacy-namespace-keys', { product: 'functions', namespace_id: namespace.id, public_key: attackerPem })
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ code: 'capture_exists', detail: `${namespace.id}: a public key is already captured for this namespace; send "replace": true to replace it` })
    expect(JSON.parse((await env.KEYSET.get(registryKeys.namespaceKey(namespace.id)))!).publicKeyPem).toBe(realPem)

    const target = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function', projectId: org, namespaceId: namespace.id, privacy: 'private' }
    await call('PUT', '/routes', { routes: [{ id: 'legacy', paths: ['/legacy'], target }] })
    await call('POST', '/sync')
    const forged = await new SignJWT({ application_claim: [{ namespace_id: namespace.id, application_id: '' }], version: 2 })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer('SCALEWAY')
      .setAudience('functions')
      .setSubject('token')
      .setJti(minted.body.id)
      .setIssuedAt()
      .setNotBefore('0s')
      .sign(attacker.privateKey)
    const edge = await atGateway('/legacy', { authorization: `Bearer ${forged}` })
    expect(edge.res.status).toBe(401)
    expect(edge.res.headers.get('www-authenticate')).toBe(tokenInvalid)
    expect(edge.body.code).toBe('token_invalid')
    expect(edge.saw).toBe(false)
    expect((await atGateway('/legacy', { authorization: `Bearer ${minted.body.token}` })).res.status).toBe(200)

    const { result: replaced, audit } = await audited(() => call('POST', '/legacy-namespace-keys', { product: 'functions', namespace_id: namespace.id, public_key: attackerPem, replace: true }))
    expect(replaced.status).toBe(200)
    expect(replaced.body).toEqual({ namespace_id: namespace.id, registered: true, replaced: true })
    expect(audit).toEqual([{ type: 'audit', actor: { kind: 'admin-token', id: 'ADMIN_TOKEN' }, action: 'legacy_namespace_key.register', target: namespace.id, replaced: true, request_id: replaced.headers.get('x-request-id') }])
  })
})

describe('POST /api-keys and the audit actor', () => {
  it('mints a key (one audit line, no secret in any line); an IAMManager key minted so is an admin whose lines name its access key', async () => {
    const application = await emulator('POST', '/iam/v1alpha1/applications', { name: `capture-admin-${crypto.randomUUID().slice(0, 8)}`, organization_id: org })
    await emulator('POST', '/iam/v1alpha1/policies', { name: `capture-admin-${application.id.slice(0, 8)}`, organization_id: org, application_id: application.id, rules: onOrg('IAMManager') })
    const { result: minted, audit, raw } = await audited(() => call('POST', '/api-keys', { application_id: application.id, kind: 'service' }))
    expect(minted.status).toBe(201)
    expect(minted.headers.get('cache-control')).toBe('no-store')
    expect(audit).toEqual([{ type: 'audit', actor: { kind: 'admin-token', id: 'ADMIN_TOKEN' }, action: 'api_key.mint', target: minted.body.access_key, replaced: false, request_id: minted.headers.get('x-request-id') }])
    for (const line of raw) expect(line).not.toContain(minted.body.secret_key)

    // The background sync started by the mint has put it in the key set: it is an admin now.
    const { result: asKey, audit: byKey } = await audited(() => call('PUT', '/routes', { routes: [] }, minted.body.secret_key))
    expect(asKey.status).toBe(200)
    expect(byKey).toEqual([{ type: 'audit', actor: { kind: 'api-key', id: minted.body.access_key }, action: 'routes.replace', target: 'routes', request_id: asKey.headers.get('x-request-id') }])
  })
})
