import { describe, expect, it } from 'vitest'
import { anyGrantAllows, grantAllows, grantsFor } from '../../src/authz/grants.js'
import type { Grant, Target } from '../../src/keyset/schema.js'

const ORG = '11111111-1111-4111-8111-111111111111'
const PROJECT = '22222222-2222-4222-8222-222222222222'
const OTHER = '33333333-3333-4333-8333-333333333333'
const fn: Target = { url: 'https://o.test', kind: 'function', projectId: PROJECT, privacy: 'private' }
const ctr: Target = { ...fn, kind: 'container' }
const projects = (sets: string[], ids = [PROJECT]): Grant => ({ permissionSets: sets, scope: { type: 'projects', projectIds: ids } })
const org = (sets: string[], organizationId = ORG): Grant => ({ permissionSets: sets, scope: { type: 'organization', organizationId } })
const query = (target: Target, fullAccessAllowsInvoke = false) => ({ target, organizationId: ORG, fullAccessAllowsInvoke })

describe('grantAllows', () => {
  it.each<[string, Grant, Target, boolean, boolean]>([
    ['FunctionsPrivateAccess on the project, function', projects(['FunctionsPrivateAccess']), fn, false, true],
    ['FunctionsPrivateAccess on the project, container', projects(['FunctionsPrivateAccess']), ctr, false, false],
    ['ContainersPrivateAccess on the project, container', projects(['ContainersPrivateAccess']), ctr, false, true],
    ['FunctionsPrivateAccess on another project', projects(['FunctionsPrivateAccess'], [OTHER]), fn, false, false],
    ['FunctionsPrivateAccess on the organisation', org(['FunctionsPrivateAccess']), fn, false, true],
    ['FunctionsPrivateAccess on another organisation', org(['FunctionsPrivateAccess'], '44444444-4444-4444-8444-444444444444'), fn, false, false],
    ['FunctionsFullAccess, setting off', projects(['FunctionsFullAccess']), fn, false, false],
    ['FunctionsFullAccess, setting on', projects(['FunctionsFullAccess']), fn, true, true],
    ['AllProductsFullAccess, setting on, container', projects(['AllProductsFullAccess']), ctr, true, true],
    ['ContainersFullAccess, setting on, function', projects(['ContainersFullAccess']), fn, true, false],
    ['an unrelated permission set', projects(['IAMReadOnly']), fn, true, false],
    ['a conditional grant (not evaluated yet: fails closed)', { ...projects(['FunctionsPrivateAccess']), condition: 'true' }, fn, false, false],
  ])('%s', (_, grant, target, fullAccess, expected) => {
    expect(grantAllows(grant, query(target, fullAccess))).toBe(expected)
  })

  it('does not allow an organisation-wide grant when the target organisation is unknown', () => {
    expect(grantAllows(org(['FunctionsPrivateAccess']), { target: fn, organizationId: undefined, fullAccessAllowsInvoke: false })).toBe(false)
  })
})

describe('anyGrantAllows', () => {
  it('ORs the rules', () => {
    expect(anyGrantAllows([projects(['IAMReadOnly']), projects(['FunctionsPrivateAccess'])], query(fn))).toBe(true)
    expect(anyGrantAllows([], query(fn))).toBe(false)
  })
})

describe('grantsFor', () => {
  const conditional = (condition: string, ids = [PROJECT]): Grant => ({ ...projects(['FunctionsPrivateAccess'], ids), condition })

  it.each<[string, Grant[], ReturnType<typeof grantsFor>]>([
    ['no grant', [], { kind: 'denied' }],
    ['an unconditional covering grant', [conditional('request.ip == "a"'), projects(['FunctionsPrivateAccess'])], { kind: 'allowed' }],
    ['conditional grants only, each condition once', [conditional('a'), conditional('b'), conditional('a')], { kind: 'conditional', conditions: ['a', 'b'] }],
    ['a conditional grant on another project does not count', [conditional('a', [OTHER])], { kind: 'denied' }],
    ['a conditional grant of another permission set does not count', [{ ...projects(['IAMReadOnly']), condition: 'a' }], { kind: 'denied' }],
  ])('%s', (_, grants, expected) => {
    expect(grantsFor(grants, query(fn))).toEqual(expected)
  })
})
