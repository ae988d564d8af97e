import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { createGateway, staticKeySet, type KeySetSource } from '../../src/index.js'
import { ORG, PROJECT } from '../support/fixtures.js'
import { newMarker, originSaw } from '../support/origin.js'

// IAM conditions through the whole gateway (route match → edgeAuth → forward to the
// test origins), on a clock and a client address the test sets: each row asserts the
// status, the code, the challenge, and whether the origin was reached.

const APP = '77777777-7777-4777-8777-777777777777'
const USER = '88888888-8888-4888-8888-888888888888'
const NS_A = 'a1111111-1111-4111-8111-111111111111'
const NS_B = 'b2222222-2222-4222-8222-222222222222'
const FN_A = 'f1111111-1111-4111-8111-111111111111'
const FN_B = 'f2222222-2222-4222-8222-222222222222'
const REALM = 'Bearer realm="edge-auth-gateway"'
const INSUFFICIENT_SCOPE = `${REALM}, error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"`

const OFFICE_HOURS = 'request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18'
const WEEKDAYS = 'request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5'

const conditions = {
  officeHours: OFFICE_HOURS,
  weekdays: WEEKDAYS,
  ipv4: 'inIpRange(request.ip, "198.51.100.0/24")',
  ipv6: 'inIpRange(request.ip, "2001:db8:cafe::/48")',
  userAgent: 'request.user_agent.startsWith("ci-runner/") && request.user_agent.matches("^ci-runner/[0-9]+\\\\.[0-9]+")',
  until: 'request.time < timestamp("2026-12-31T23:00:00Z")',
  // Two rules OR-ed: an office-hours rule, or a rule for one IPv4 range at any time.
  orA: OFFICE_HOURS,
  orB: 'inIpRange(request.ip, "203.0.113.0/24")',
  namespaceA: `resource.namespace_id == "${NS_A}"`,
  functionsByName: 'resource.name in ["alpha"] && resource.kind == "function"',
  officeAndRange: `${OFFICE_HOURS} && inIpRange(request.ip, "198.51.100.0/24")`,
} as const

type Role = keyof typeof conditions | 'owner' | 'personal' | 'ci'
const secretOf = (n: number) => `cccccccc-0000-4000-8000-${String(n).padStart(12, '0')}`
const roles: Role[] = [...(Object.keys(conditions) as (keyof typeof conditions)[]), 'owner', 'personal', 'ci']
const secrets = Object.fromEntries(roles.map((role, i) => [role, secretOf(i + 1)])) as Record<Role, string>

const grant = (condition?: string) => ({ permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects' as const, projectIds: [PROJECT] }, ...(condition ? { condition } : {}) })

async function source(): Promise<KeySetSource> {
  const apiKeys: KeySetSource['apiKeys'] = {}
  let n = 0
  for (const role of roles) {
    n++
    const accessKey = `SCWCOND${String(n).padStart(13, '0')}`
    const base = { accessKey, bearer: { type: 'application' as const, id: APP, name: `app-${role}` }, organizationId: ORG, expiresAt: null, kind: 'service' as const }
    const record =
      role === 'owner'
        ? { ...base, bearer: { type: 'user' as const, id: USER }, kind: 'personal' as const, owner: true, grants: [grant('request.ip == "192.0.2.250"')] }
        : role === 'personal'
          ? { ...base, bearer: { type: 'user' as const, id: USER }, kind: 'personal' as const, grants: [grant()] }
          : role === 'ci'
            ? { ...base, kind: 'ci' as const, grants: [grant()] }
            : role === 'orA' || role === 'orB'
              ? { ...base, grants: [grant(conditions.orA), grant(conditions.orB)] }
              : { ...base, grants: [grant(conditions[role])] }
    apiKeys[await apiKeyDigest(secrets[role])] = record
  }
  const target = (resourceId: string, namespaceId: string) => ({ url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function' as const, projectId: PROJECT, namespaceId, resourceId, privacy: 'private' as const })
  return {
    projects: { [PROJECT]: ORG },
    apiKeys,
    resources: {
      [FN_A]: { kind: 'function', name: 'alpha', namespaceId: NS_A, projectId: PROJECT, privacy: 'private', region: 'fr-par' },
      [FN_B]: { kind: 'function', name: 'beta', namespaceId: NS_B, projectId: PROJECT, privacy: 'private', region: 'fr-par' },
    },
    routes: [
      { id: 'alpha', paths: ['/alpha'], target: target(FN_A, NS_A) },
      { id: 'beta', paths: ['/beta'], target: target(FN_B, NS_B) },
      { id: 'ci-only', paths: ['/ci-only'], auth: { keyKinds: ['ci'] }, target: target(FN_A, NS_A) },
      { id: 'people', paths: ['/people'], auth: { keyKinds: ['personal', 'service'] }, target: target(FN_A, NS_A) },
    ],
  }
}

let keySet: KeySetSource
beforeAll(async () => {
  keySet = await source()
})

/** The gateway on a clock and a client address the test sets. */
function gateway() {
  let now = Date.parse('2026-11-30T10:00:00Z')
  let ip = '192.0.2.1'
  const store = staticKeySet(keySet)
  const app = createGateway({
    keySet: () => store,
    originToken: () => env.ORIGIN_AUTH_TOKEN,
    allowInsecureLoopbackOrigins: true,
    clientIpHeader: null,
    connectionIp: () => ip,
    clock: () => now,
    accessLog: 'off',
  })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  return {
    at: (iso: string) => void (now = Date.parse(iso)),
    from: (address: string) => void (ip = address),
    call: async (path: string, secret: string, userAgent = 'curl/8.5.0') => {
      const marker = newMarker()
      const res = await app.request(`https://gw.example${path}`, { headers: { 'x-auth-token': secret, 'x-test-marker': marker, 'user-agent': userAgent } }, env, ctx)
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as { code?: string; detail?: string }, reached: await originSaw(marker) }
    },
  }
}

interface Row {
  name: string
  role: Role
  at?: string
  ip?: string
  userAgent?: string
  path?: string
  allowed: boolean
}

const rows: Row[] = [
  // Europe/Paris: UTC+1 until 2026-03-29 01:00 UTC, UTC+2 until 2026-10-25 01:00 UTC.
  { name: 'office hours, 08:30 UTC in winter is 09:30 in Paris', role: 'officeHours', at: '2026-11-30T08:30:00Z', allowed: true },
  { name: 'office hours, 07:30 UTC in winter is 08:30 in Paris', role: 'officeHours', at: '2026-11-30T07:30:00Z', allowed: false },
  { name: 'office hours, the day before DST starts, 07:30 UTC is 08:30 in Paris', role: 'officeHours', at: '2026-03-27T07:30:00Z', allowed: false },
  { name: 'office hours, the Monday after DST started, 07:30 UTC is 09:30 in Paris', role: 'officeHours', at: '2026-03-30T07:30:00Z', allowed: true },
  { name: 'office hours, the Friday before DST ends, 16:30 UTC is 18:30 in Paris', role: 'officeHours', at: '2026-10-23T16:30:00Z', allowed: false },
  { name: 'office hours, the Monday after DST ended, 16:30 UTC is 17:30 in Paris', role: 'officeHours', at: '2026-10-26T16:30:00Z', allowed: true },
  { name: 'weekdays, a Monday', role: 'weekdays', at: '2026-11-30T10:00:00Z', allowed: true },
  { name: 'weekdays, a Sunday', role: 'weekdays', at: '2026-11-29T10:00:00Z', allowed: false },
  { name: 'weekdays, Sunday 23:30 UTC is Monday 00:30 in Paris', role: 'weekdays', at: '2026-11-29T23:30:00Z', allowed: true },
  { name: 'IPv4 range, inside', role: 'ipv4', ip: '198.51.100.77', allowed: true },
  { name: 'IPv4 range, outside', role: 'ipv4', ip: '198.51.101.77', allowed: false },
  { name: 'IPv4 range, the same address IPv4-mapped', role: 'ipv4', ip: '::ffff:198.51.100.77', allowed: true },
  { name: 'IPv6 range, inside', role: 'ipv6', ip: '2001:db8:cafe:12::1', allowed: true },
  { name: 'IPv6 range, outside', role: 'ipv6', ip: '2001:db8:caff::1', allowed: false },
  { name: 'IPv6 range, an IPv4 client', role: 'ipv6', ip: '198.51.100.77', allowed: false },
  { name: 'user agent, a CI runner', role: 'userAgent', userAgent: 'ci-runner/2.14 (linux)', allowed: true },
  { name: 'user agent, curl', role: 'userAgent', userAgent: 'curl/8.5.0', allowed: false },
  { name: 'user agent, a prefix without a version', role: 'userAgent', userAgent: 'ci-runner/latest', allowed: false },
  { name: 'timestamp comparison, before the end date', role: 'until', at: '2026-12-31T22:59:59Z', allowed: true },
  { name: 'timestamp comparison, at the end date', role: 'until', at: '2026-12-31T23:00:00Z', allowed: false },
  { name: 'two rules OR-ed: the first holds', role: 'orA', at: '2026-11-30T10:00:00Z', ip: '192.0.2.1', allowed: true },
  { name: 'two rules OR-ed: the second holds', role: 'orB', at: '2026-11-30T22:00:00Z', ip: '203.0.113.9', allowed: true },
  { name: 'two rules OR-ed: neither holds', role: 'orA', at: '2026-11-30T22:00:00Z', ip: '192.0.2.1', allowed: false },
  { name: 'the owner is exempt from conditions', role: 'owner', ip: '192.0.2.1', allowed: true },
  { name: 'office hours and an IP range, both hold', role: 'officeAndRange', ip: '198.51.100.5', allowed: true },
  { name: 'office hours and an IP range, out of the range', role: 'officeAndRange', ip: '192.0.2.5', allowed: false },
  { name: 'resource.namespace_id: its namespace', role: 'namespaceA', path: '/alpha', allowed: true },
  { name: 'resource.namespace_id: another namespace', role: 'namespaceA', path: '/beta', allowed: false },
  { name: 'resource.name (synced): its function', role: 'functionsByName', path: '/alpha', allowed: true },
  { name: 'resource.name (synced): another function', role: 'functionsByName', path: '/beta', allowed: false },
]

describe('IAM conditions at the edge', () => {
  it.each(rows)('$name: allowed $allowed', async ({ role, at, ip, userAgent, path, allowed }) => {
    const gw = gateway()
    if (at) gw.at(at)
    if (ip) gw.from(ip)
    const { status, challenge, body, reached } = await gw.call(path ?? '/alpha', secrets[role], userAgent)
    if (allowed) {
      expect(status).toBe(200)
      expect(reached).toBe(true)
      return
    }
    expect(status).toBe(403)
    expect(body.code).toBe('permission_denied')
    expect(challenge).toBe(INSUFFICIENT_SCOPE)
    expect(reached).toBe(false)
  })

  it('evaluates the conditions of a cached credential on every request: the clock crossing 18:00 in Paris refuses it', async () => {
    const gw = gateway()
    gw.at('2026-11-30T16:59:59Z')
    expect((await gw.call('/alpha', secrets.officeHours)).status).toBe(200)
    gw.at('2026-11-30T17:00:00Z')
    const late = await gw.call('/alpha', secrets.officeHours)
    expect(late.status).toBe(403)
    expect(late.body.code).toBe('permission_denied')
    expect(late.challenge).toBe(INSUFFICIENT_SCOPE)
    expect(late.reached).toBe(false)
    // And back: what the cache remembers is who the key is, never what a condition said.
    gw.at('2026-12-01T08:00:00Z')
    expect((await gw.call('/alpha', secrets.officeHours)).status).toBe(200)
  })

  it('evaluates them per request for the client address too: one cached key, two addresses', async () => {
    const gw = gateway()
    gw.from('198.51.100.1')
    expect((await gw.call('/alpha', secrets.ipv4)).status).toBe(200)
    gw.from('192.0.2.1')
    const other = await gw.call('/alpha', secrets.ipv4)
    expect(other.status).toBe(403)
    expect(other.reached).toBe(false)
  })
})

describe('key kinds per route', () => {
  it('refuses a personal key on a CI-only route with 403, naming the kind and never the key', async () => {
    const { status, challenge, body, reached } = await gateway().call('/ci-only', secrets.personal)
    expect(status).toBe(403)
    expect(body.code).toBe('permission_denied')
    expect(challenge).toBe(`${REALM}, error="insufficient_scope", error_description="The credential does not allow this call."`)
    expect(body.detail).toBe('This route accepts ci keys only; this is a personal key.')
    expect(JSON.stringify(body)).not.toContain(secrets.personal)
    expect(reached).toBe(false)
  })

  it.each<[string, Role, string, number]>([
    ['a CI key on the CI-only route', 'ci', '/ci-only', 200],
    ['a service key on the CI-only route', 'namespaceA', '/ci-only', 403],
    ['a personal key where personal keys may go', 'personal', '/people', 200],
    ['a CI key where only personal and service keys may go', 'ci', '/people', 403],
  ])('%s: %s', async (_, role, path, status) => {
    const result = await gateway().call(path, secrets[role])
    expect(result.status).toBe(status)
    expect(result.reached).toBe(status === 200)
  })
})
