import { describe, expect, it } from 'vitest'
import { compileApiKeys, ruleToGrant, type IamSnapshot } from '../../src/sync/compile-keys.js'
import type { IamRule } from '../../src/sync/iam-api.js'

const ORG = '11111111-1111-4111-8111-111111111111'
const P1 = '22222222-2222-4222-8222-222222222222'
const APP = 'a0000000-0000-4000-8000-000000000001'
const APP2 = 'a0000000-0000-4000-8000-000000000002'
const OWNER = 'u0000000-0000-4000-8000-000000000001'.replace('u', 'b')
const GUEST = 'b0000000-0000-4000-8000-000000000002'
const GROUP = 'c0000000-0000-4000-8000-000000000001'
const digest = (n: number) => n.toString(16).padStart(64, '0')

const rule = (id: string, sets: string[], scope: Partial<IamRule>): IamRule => ({ id, permission_set_names: sets, project_ids: null, organization_id: null, condition: null, ...scope })
const key = (access: string, bearer: { application_id?: string; user_id?: string }, expires: string | null = null) => ({
  access_key: access, secret_key: null, application_id: bearer.application_id ?? null, user_id: bearer.user_id ?? null, description: '', created_at: null, expires_at: expires, default_project_id: P1, editable: true,
})

function snapshot(): IamSnapshot {
  return {
    organizationId: ORG,
    apiKeys: [key('SCWAPP00000000000001', { application_id: APP }, '2030-01-01T00:00:00Z'), key('SCWAPP00000000000002', { application_id: APP2 }), key('SCWOWNER000000000001', { user_id: OWNER }), key('SCWGUEST000000000001', { user_id: GUEST }), key('SCWNODIGEST000000001', { application_id: APP })],
    applications: [{ id: APP, name: 'billing', organization_id: ORG, description: '', tags: [] }, { id: APP2, name: 'other', organization_id: ORG, description: '', tags: ['edgegw:kind=ci'] }],
    users: [{ id: OWNER, email: 'owner@example.com', organization_id: ORG, type: 'owner' }, { id: GUEST, email: 'guest@example.com', organization_id: ORG, type: 'guest' }],
    groups: [{ id: GROUP, name: 'invokers', organization_id: ORG, user_ids: [GUEST], application_ids: [APP2] }],
    policies: [
      { id: 'p-app', name: 'app', organization_id: ORG, application_id: APP, user_id: null, group_id: null, no_principal: null },
      { id: 'p-group', name: 'group', organization_id: ORG, application_id: null, user_id: null, group_id: GROUP, no_principal: null },
      { id: 'p-none', name: 'none', organization_id: ORG, application_id: null, user_id: null, group_id: null, no_principal: true },
    ],
    rules: new Map([
      [
        'p-app',
        [
          rule('r1', ['FunctionsPrivateAccess'], { project_ids: [P1] }),
          rule('r2', ['ContainersPrivateAccess'], { project_ids: [P1], condition: ' request.ip == "1.2.3.4" ' }),
          rule('r5', ['FunctionsPrivateAccess'], { project_ids: [P1], condition: 'request.ip ==' }),
        ],
      ],
      ['p-group', [rule('r3', ['ContainersPrivateAccess'], { organization_id: ORG })]],
      ['p-none', [rule('r4', ['AllProductsFullAccess'], { organization_id: ORG })]],
    ]),
  }
}

const captured = new Map([
  ['SCWAPP00000000000001', { digest: digest(1), kind: 'ci' as const }],
  ['SCWAPP00000000000002', { digest: digest(2) }],
  ['SCWOWNER000000000001', { digest: digest(3) }],
  ['SCWGUEST000000000001', { digest: digest(4) }],
  ['SCWDELETED0000000001', { digest: digest(5) }],
])

describe('compileApiKeys', () => {
  const compiled = compileApiKeys(snapshot(), captured)

  it('gives an application key its own policies, with conditions kept and trimmed', () => {
    expect(compiled.apiKeys[digest(1)]).toEqual({
      accessKey: 'SCWAPP00000000000001',
      bearer: { type: 'application', id: APP, name: 'billing' },
      organizationId: ORG,
      kind: 'ci',
      expiresAt: '2030-01-01T00:00:00Z',
      owner: false,
      grants: [
        { permissionSets: ['FunctionsPrivateAccess'], scope: { type: 'projects', projectIds: [P1] } },
        { permissionSets: ['ContainersPrivateAccess'], scope: { type: 'projects', projectIds: [P1] }, condition: 'request.ip == "1.2.3.4"' },
      ],
    })
  })

  it("gives group members the group's policies", () => {
    const orgGrant = { permissionSets: ['ContainersPrivateAccess'], scope: { type: 'organization', organizationId: ORG } }
    expect(compiled.apiKeys[digest(2)]?.grants).toEqual([orgGrant])
    expect(compiled.apiKeys[digest(4)]?.grants).toEqual([orgGrant])
    expect(compiled.apiKeys[digest(4)]?.bearer).toEqual({ type: 'user', id: GUEST, name: 'guest@example.com' })
  })

  it('leaves out a rule whose condition does not parse, with a warning naming the policy and rule', () => {
    const conditions = compiled.apiKeys[digest(1)]!.grants.map((g) => g.condition)
    expect(conditions).not.toContain('request.ip ==')
    expect(compiled.warnings).toEqual([expect.stringMatching(/^policy p-app rule r5: the condition does not parse: .*; the rule grants nothing$/)])
  })

  it.each<[string, string, 'personal' | 'ci' | 'service']>([
    ['kind recorded at capture', digest(1), 'ci'],
    ["an application tagged edgegw:kind=ci", digest(2), 'ci'],
    ["a user's key, always", digest(4), 'personal'],
  ])('key kinds: %s', (_, d, kind) => {
    expect(compiled.apiKeys[d]?.kind).toBe(kind)
  })

  it('defaults an untagged application key to a service key', () => {
    const plain = compileApiKeys(snapshot(), new Map([['SCWAPP00000000000001', { digest: digest(1) }]]))
    expect(plain.apiKeys[digest(1)]?.kind).toBe('service')
  })

  it('marks the owner, whose key needs no grant', () => {
    expect(compiled.apiKeys[digest(3)]).toMatchObject({ owner: true, grants: [] })
  })

  it('ignores policies without a principal', () => {
    const all = Object.values(compiled.apiKeys).flatMap((k) => k.grants.flatMap((g) => g.permissionSets))
    expect(all).not.toContain('AllProductsFullAccess')
  })

  it('counts keys without a captured digest, and captured digests of deleted keys, and drops both', () => {
    expect(compiled.withoutDigest).toBe(1)
    expect(compiled.orphanedDigests).toBe(1)
    expect(Object.keys(compiled.apiKeys).sort()).toEqual([digest(1), digest(2), digest(3), digest(4)])
  })
})

describe('ruleToGrant', () => {
  it('drops a rule with no scope', () => {
    expect(ruleToGrant(rule('r', ['FunctionsPrivateAccess'], {}))).toBeUndefined()
  })
  it('drops an empty condition', () => {
    expect(ruleToGrant(rule('r', ['X'], { organization_id: ORG, condition: '   ' }))).toEqual({ permissionSets: ['X'], scope: { type: 'organization', organizationId: ORG } })
  })
})
