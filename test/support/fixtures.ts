import { env } from 'cloudflare:workers'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { writeKeySet } from '../../src/keyset/writer.js'

export const ORG = '11111111-1111-4111-8111-111111111111'
export const PROJECT = '22222222-2222-4222-8222-222222222222'
export const OTHER_PROJECT = '33333333-3333-4333-8333-333333333333'
export const OTHER_ORG = '44444444-4444-4444-8444-444444444444'
export const APP = '55555555-5555-4555-8555-555555555555'

/** Secrets of the test keys, by role. Test-only values. */
export const secrets = {
  functions: 'aaaaaaaa-0000-4000-8000-000000000001',
  containers: 'aaaaaaaa-0000-4000-8000-000000000002',
  otherProject: 'aaaaaaaa-0000-4000-8000-000000000003',
  expired: 'aaaaaaaa-0000-4000-8000-000000000004',
  noGrant: 'aaaaaaaa-0000-4000-8000-000000000005',
  orgWide: 'aaaaaaaa-0000-4000-8000-000000000006',
  owner: 'aaaaaaaa-0000-4000-8000-000000000007',
  fullAccess: 'aaaaaaaa-0000-4000-8000-000000000008',
  conditional: 'aaaaaaaa-0000-4000-8000-000000000009',
  unknown: 'bbbbbbbb-0000-4000-8000-00000000000f',
} as const

const accessKey = (n: number) => `SCW${String(n).padStart(17, '0')}`

type Role = keyof typeof secrets

function key(role: Role, n: number, grants: KeySetSource['apiKeys'][string]['grants'], extra: Partial<KeySetSource['apiKeys'][string]> = {}) {
  return [role, { accessKey: accessKey(n), bearer: { type: 'application' as const, id: APP, name: `app-${role}` }, organizationId: ORG, expiresAt: null, grants, ...extra }] as const
}

const onProject = (sets: string[], projectIds = [PROJECT]) => ({ permissionSets: sets, scope: { type: 'projects' as const, projectIds } })

const keys = [
  key('functions', 1, [onProject(['FunctionsPrivateAccess'])]),
  key('containers', 2, [onProject(['ContainersPrivateAccess'])]),
  key('otherProject', 3, [onProject(['FunctionsPrivateAccess', 'ContainersPrivateAccess'], [OTHER_PROJECT])]),
  key('expired', 4, [onProject(['FunctionsPrivateAccess'])], { expiresAt: '2020-01-01T00:00:00Z' }),
  key('noGrant', 5, []),
  key('orgWide', 6, [{ permissionSets: ['FunctionsPrivateAccess', 'ContainersPrivateAccess'], scope: { type: 'organization', organizationId: ORG } }]),
  key('owner', 7, [], { owner: true, bearer: { type: 'user', id: '66666666-6666-4666-8666-666666666666' } }),
  key('fullAccess', 8, [onProject(['FunctionsFullAccess'])]),
  key('conditional', 9, [{ ...onProject(['FunctionsPrivateAccess']), condition: 'request.ip == "203.0.113.7"' }]),
] as const

/** The standard test key set: two routes on the test origins, and one key per role. */
export async function testKeySet(originsUrl = env.ORIGINS_URL): Promise<KeySetSource> {
  const apiKeys: KeySetSource['apiKeys'] = {}
  for (const [role, record] of keys) apiKeys[await apiKeyDigest(secrets[role])] = record
  return {
    projects: { [PROJECT]: ORG, [OTHER_PROJECT]: OTHER_ORG },
    apiKeys,
    routes: [
      { id: 'hello-fn', paths: ['/hello'], methods: ['GET', 'POST'], target: { url: `${originsUrl}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' } },
      { id: 'echo-ctr', paths: ['/echo'], target: { url: `${originsUrl}/containers/echo`, kind: 'container', projectId: PROJECT, privacy: 'private' } },
      { id: 'public-fn', paths: ['/public'], target: { url: `${originsUrl}/functions/public-hello`, kind: 'function', projectId: PROJECT, privacy: 'public' } },
      { id: 'full-path', paths: ['/keep'], stripPath: false, target: { url: `${originsUrl}/functions/keep`, kind: 'function', projectId: PROJECT, privacy: 'private' } },
      { id: 'keys-only', paths: ['/keys-only'], auth: { accept: ['api-key'] }, target: { url: `${originsUrl}/functions/hello`, kind: 'function', projectId: PROJECT, privacy: 'private' } },
      { id: 'down', paths: ['/down'], target: { url: `${env.CLOSED_ORIGIN_URL}/functions/down`, kind: 'function', projectId: PROJECT, privacy: 'private' } },
    ],
  }
}

/** Writes the test key set into the test KV namespace. */
export async function seedKeySet(source?: KeySetSource): Promise<void> {
  await writeKeySet(env.KEYSET, source ?? (await testKeySet()), { source: 'fixture' })
}
