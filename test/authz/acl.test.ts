import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { aclAllows } from '../../src/authz/acl.js'
import { RouteAuthSchema } from '../../src/keyset/jwt-schema.js'
import type { EdgeAuthIdentity } from '../../src/identity.js'

const auth = (input: v.InferInput<typeof RouteAuthSchema>) => v.parse(RouteAuthSchema, input)
const ALICE = '0a1b2c3d-0000-4000-8000-00000000a11c'
const consumer: EdgeAuthIdentity = {
  method: 'consumer-jwt',
  credentialId: 'k',
  principal: { type: 'consumer', id: ALICE, name: 'alice' },
  consumer: { id: ALICE, username: 'alice', groups: ['billing', 'ops'] },
}
// Another consumer, whose username is alice's id.
const MALLORY = '0a1b2c3d-0000-4000-8000-0000000a110f'
const mallory: EdgeAuthIdentity = {
  method: 'consumer-jwt',
  credentialId: 'm',
  principal: { type: 'consumer', id: MALLORY, name: ALICE },
  consumer: { id: MALLORY, username: ALICE, groups: [] },
}
const apiKey: EdgeAuthIdentity = { method: 'iam-api-key', credentialId: 'SCW00000000000000001', principal: { type: 'application', id: 'a-1' } }

describe('aclAllows', () => {
  it.each<[string, boolean, EdgeAuthIdentity, v.InferInput<typeof RouteAuthSchema>]>([
    ['no list: a consumer', true, consumer, {}],
    ['no list: an API key', true, apiKey, {}],
    ['consumer listed by username', true, consumer, { allowConsumers: ['alice'] }],
    ['consumer listed by id', true, consumer, { allowConsumers: [ALICE] }],
    ['consumer listed by id in upper case', true, consumer, { allowConsumers: [ALICE.toUpperCase()] }],
    ["a consumer whose username is the listed consumer's id", false, mallory, { allowConsumers: [ALICE] }],
    ['a consumer listed by its own id', true, mallory, { allowConsumers: [MALLORY] }],
    ['consumer not listed', false, consumer, { allowConsumers: ['bob'] }],
    ['group listed', true, consumer, { allowGroups: ['ops'] }],
    ['group not listed', false, consumer, { allowGroups: ['admins'] }],
    ['either list matching is enough', true, consumer, { allowConsumers: ['bob'], allowGroups: ['billing'] }],
    ['an empty list lets nobody through', false, consumer, { allowConsumers: [] }],
    ['an API key on a route with a list (not a consumer)', false, apiKey, { allowGroups: ['billing'] }],
  ])('%s → %s', (_, expected, identity, input) => {
    expect(aclAllows(identity, auth(input))).toBe(expected)
  })
})
