import { describe, expect, it } from 'vitest'
import { applicationWithKey, call, grant, IAM, info, ok, unique } from './support.js'

interface Policy {
  id: string
  nb_rules: number
  nb_scopes: number
  nb_permission_sets: number
  application_id?: string
  group_id?: string
  no_principal?: boolean
}
interface Rule {
  id: string
  permission_set_names: string[]
  permission_sets_scope_type: string
  condition: string
  project_ids?: string[]
  organization_id?: string
}

describe('policies and rules', () => {
  it('creates a policy with rules and counts them', async () => {
    const { organization_id } = await info()
    const { applicationId } = await applicationWithKey()
    const projects = [crypto.randomUUID(), crypto.randomUUID()]
    const policy = await ok<Policy>('POST', `${IAM}/policies`, {
      body: {
        name: unique('p'),
        application_id: applicationId,
        rules: [
          { permission_set_names: ['FunctionsPrivateAccess', 'ContainersPrivateAccess'], project_ids: projects },
          { permission_set_names: ['IAMReadOnly'], organization_id, condition: 'request.ip.inIpRange("10.0.0.0/8")' },
        ],
      },
    })
    expect(policy).toMatchObject({ application_id: applicationId, nb_rules: 2, nb_scopes: 3, nb_permission_sets: 3 })
    expect('user_id' in policy).toBe(false)
    const rules = await ok<{ rules: Rule[]; total_count: number }>('GET', `${IAM}/rules?policy_id=${policy.id}`)
    expect(rules.total_count).toBe(2)
    expect(rules.rules[0]).toEqual({ id: expect.any(String), permission_set_names: ['FunctionsPrivateAccess', 'ContainersPrivateAccess'], permission_sets_scope_type: 'projects', condition: '', project_ids: projects })
    expect(rules.rules[1]).toMatchObject({ permission_sets_scope_type: 'organization', organization_id, condition: 'request.ip.inIpRange("10.0.0.0/8")' })
    expect('project_ids' in rules.rules[1]!).toBe(false)
  })

  it('replaces rules with PUT /rules and lists policies by principal', async () => {
    const { applicationId } = await applicationWithKey()
    const policy = await grant({ application_id: applicationId }, { permission_set_names: ['FunctionsFullAccess'], project_ids: [crypto.randomUUID()] })
    const project = crypto.randomUUID()
    const set = await ok<{ rules: Rule[] }>('PUT', `${IAM}/rules`, { body: { policy_id: policy.id, rules: [{ permission_set_names: ['ContainersFullAccess'], project_ids: [project] }] } })
    expect(set.rules).toHaveLength(1)
    expect(set.rules[0]).toMatchObject({ permission_set_names: ['ContainersFullAccess'], project_ids: [project] })
    const listed = await ok<{ rules: Rule[] }>('GET', `${IAM}/rules?policy_id=${policy.id}`)
    expect(listed.rules).toEqual(set.rules)
    const byApp = await ok<{ policies: Policy[]; total_count: number }>('GET', `${IAM}/policies?application_ids=${applicationId}`)
    expect(byApp.total_count).toBe(1)
    expect(byApp.policies[0]).toMatchObject({ id: policy.id, nb_rules: 1 })
  })

  it.each([
    ['an unknown permission set', { permission_set_names: ['NoSuchSet'], project_ids: [crypto.randomUUID()] }, 'rules.0.permission_set_names'],
    ['both scopes', { permission_set_names: ['FunctionsFullAccess'], project_ids: [crypto.randomUUID()], organization_id: '00000000-0000-4000-8000-000000000000' }, 'rules.0.project_ids'],
    ['no scope', { permission_set_names: ['FunctionsFullAccess'] }, 'rules.0.project_ids'],
    ['an Organization-level set on Projects', { permission_set_names: ['IAMManager'], project_ids: [crypto.randomUUID()] }, 'rules.0.project_ids'],
    ['mixed scope types', { permission_set_names: ['IAMManager', 'FunctionsFullAccess'], organization_id: 'ORG' }, 'rules.0.permission_set_names'],
    ['no permission set', { permission_set_names: [], project_ids: [crypto.randomUUID()] }, 'rules.0.permission_set_names'],
    ['a condition over 2048 characters', { permission_set_names: ['FunctionsFullAccess'], project_ids: [crypto.randomUUID()], condition: 'x'.repeat(2049) }, 'rules.0.condition'],
    ['a condition that does not parse', { permission_set_names: ['FunctionsFullAccess'], project_ids: [crypto.randomUUID()], condition: 'request.ip ==' }, 'rules.0.condition'],
  ])('refuses a rule with %s', async (_case, rule, argument) => {
    const { organization_id } = await info()
    const fixed = JSON.parse(JSON.stringify(rule).replace('"ORG"', JSON.stringify(organization_id)))
    const res = await call<{ details: { argument_name: string }[] }>('POST', `${IAM}/policies`, { body: { name: unique('bad'), no_principal: true, rules: [fixed] } })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ type: 'invalid_arguments' })
    expect(res.body.details.map((d) => d.argument_name)).toContain(argument)
  })

  it('refuses a policy without a principal, or with two', async () => {
    const { owner_user_id } = await info()
    const none = await call('POST', `${IAM}/policies`, { body: { name: unique('p') } })
    expect(none.status).toBe(400)
    const two = await call('POST', `${IAM}/policies`, { body: { name: unique('p'), user_id: owner_user_id, no_principal: true } })
    expect(two.status).toBe(400)
  })
})

describe('groups and membership', () => {
  it('grants a group’s rules to its members only while they are members', async () => {
    const { organization_id } = await info()
    const { applicationId, secret } = await applicationWithKey()
    const group = await ok<{ id: string; application_ids: string[] }>('POST', `${IAM}/groups`, { body: { name: unique('admins') } })
    await grant({ group_id: group.id }, { permission_set_names: ['IAMManager'], organization_id })
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(403)

    const added = await ok<{ application_ids: string[]; user_ids: string[] }>('POST', `${IAM}/groups/${group.id}/add-member`, { body: { application_id: applicationId } })
    expect(added.application_ids).toEqual([applicationId])
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(200)
    const byMember = await ok<{ groups: { id: string }[] }>('GET', `${IAM}/groups?application_ids=${applicationId}`)
    expect(byMember.groups.map((g) => g.id)).toEqual([group.id])

    const removed = await ok<{ application_ids: string[] }>('POST', `${IAM}/groups/${group.id}/remove-member`, { body: { application_id: applicationId } })
    expect(removed.application_ids).toEqual([])
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(403)
  })

  it('overwrites members with PUT /members and adds several with add-members', async () => {
    const a = await applicationWithKey()
    const b = await applicationWithKey()
    const { owner_user_id } = await info()
    const group = await ok<{ id: string }>('POST', `${IAM}/groups`, { body: { name: unique('g') } })
    const both = await ok<{ application_ids: string[]; user_ids: string[] }>('POST', `${IAM}/groups/${group.id}/add-members`, { body: { application_ids: [a.applicationId, b.applicationId], user_ids: [owner_user_id] } })
    expect(both.application_ids.sort()).toEqual([a.applicationId, b.applicationId].sort())
    expect(both.user_ids).toEqual([owner_user_id])
    const set = await ok<{ application_ids: string[]; user_ids: string[] }>('PUT', `${IAM}/groups/${group.id}/members`, { body: { application_ids: [b.applicationId], user_ids: [] } })
    expect(set).toMatchObject({ application_ids: [b.applicationId], user_ids: [] })
    expect((await call('POST', `${IAM}/groups/${group.id}/add-member`, { body: { application_id: crypto.randomUUID() } })).status).toBe(404)
  })

  it('refuses a second group of the same name with 409 already_exists', async () => {
    const name = unique('dup')
    await ok('POST', `${IAM}/groups`, { body: { name } })
    const res = await call('POST', `${IAM}/groups`, { body: { name } })
    expect(res.status).toBe(409)
    expect(res.body).toMatchObject({ type: 'already_exists', resource: 'group' })
  })

  it('has no implicit all-users or all-applications group', async () => {
    const { organization_id } = await info()
    const groups = await ok<{ groups: { name: string }[] }>('GET', `${IAM}/groups?page_size=100`)
    expect(groups.groups.every((g) => !/^all[ -_]/i.test(g.name))).toBe(true)
    // A policy without a principal grants nobody anything.
    await ok('POST', `${IAM}/policies`, { body: { name: unique('orphan'), no_principal: true, rules: [{ permission_set_names: ['IAMManager'], organization_id }] } })
    const { secret } = await applicationWithKey()
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(403)
  })

  it('deleting an application deletes its keys, leaves its groups and orphans its policies', async () => {
    const { organization_id } = await info()
    const { applicationId, accessKey, secret } = await applicationWithKey()
    const group = await ok<{ id: string }>('POST', `${IAM}/groups`, { body: { name: unique('g') } })
    await ok('POST', `${IAM}/groups/${group.id}/add-member`, { body: { application_id: applicationId } })
    const policy = await grant({ application_id: applicationId }, { permission_set_names: ['IAMReadOnly'], organization_id })
    await ok('DELETE', `${IAM}/applications/${applicationId}`, { status: 204 })
    expect((await call('GET', `${IAM}/api-keys/${accessKey}`)).status).toBe(404)
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(401)
    expect(await ok<{ application_ids: string[] }>('GET', `${IAM}/groups/${group.id}`)).toMatchObject({ application_ids: [] })
    const orphan = await ok<Policy>('GET', `${IAM}/policies/${policy.id}`)
    expect(orphan.no_principal).toBe(true)
    expect('application_id' in orphan).toBe(false)
  })
})

describe('management permissions', () => {
  it.each([
    ['IAMReadOnly', 'GET', 200],
    ['IAMReadOnly', 'POST', 403],
    ['IAMManager', 'POST', 200],
  ])('a key with %s may %s applications → %i', async (set, method, status) => {
    const { organization_id } = await info()
    const { applicationId, secret } = await applicationWithKey()
    await grant({ application_id: applicationId }, { permission_set_names: [set], organization_id })
    const res = await call(method, `${IAM}/applications`, { token: secret, ...(method === 'POST' ? { body: { name: unique('made') } } : {}) })
    expect(res.status).toBe(status)
  })

  it('does not count a rule with a condition', async () => {
    const { organization_id } = await info()
    const { applicationId, secret } = await applicationWithKey()
    await grant({ application_id: applicationId }, { permission_set_names: ['IAMManager'], organization_id, condition: 'request.user_agent == "x"' })
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(403)
  })

  it('lists the permission-set catalogue with the sets the gateway needs', async () => {
    const sets = await ok<{ permission_sets: { name: string; scope_type: string }[]; total_count: number }>('GET', `${IAM}/permission-sets?page_size=100`)
    const byName = new Map(sets.permission_sets.map((s) => [s.name, s.scope_type]))
    for (const name of ['FunctionsPrivateAccess', 'ContainersPrivateAccess', 'FunctionsFullAccess', 'ContainersFullAccess', 'AllProductsFullAccess']) expect(byName.get(name)).toBe('projects')
    for (const name of ['IAMReadOnly', 'IAMManager']) expect(byName.get(name)).toBe('organization')
    expect(sets.total_count).toBe(sets.permission_sets.length)
  })
})
