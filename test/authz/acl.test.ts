import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { aclAllows } from '../../src/authz/acl.js'
import { RouteAuthSchema } from '../../src/keyset/jwt-schema.js'
import type { EdgeAuthIdentity } from '../../src/middleware/identity.js'

const auth = (input: v.InferInput<typeof RouteAuthSchema>) => v.parse(RouteAuthSchema, input)
const consumer: EdgeAuthIdentity = {
  method: 'consumer-jwt',
  credentialId: 'k',
  principal: { type: 'consumer', id: 'c-1', name: 'alice' },
  consumer: { id: 'c-1', username: 'alice', groups: ['billing', 'ops'] },
}
const apiKey: EdgeAuthIdentity = { method: 'iam-api-key', credentialId: 'SCW00000000000000001', principal: { type: 'application', id: 'a-1' } }

describe('aclAllows', () => {
  it.each<[string, EdgeAuthIdentity, v.InferInput<typeof RouteAuthSchema>, boolean]>([
    ['no list: a consumer', consumer, {}, true],
    ['no list: an API key', apiKey, {}, true],
    ['consumer listed by username', consumer, { allowConsumers: ['alice'] }, true],
    ['consumer listed by id', consumer, { allowConsumers: ['c-1'] }, true],
    ['consumer not listed', consumer, { allowConsumers: ['bob'] }, false],
    ['group listed', consumer, { allowGroups: ['ops'] }, true],
    ['group not listed', consumer, { allowGroups: ['admins'] }, false],
    ['either list matching is enough', consumer, { allowConsumers: ['bob'], allowGroups: ['billing'] }, true],
    ['an empty list lets nobody through', consumer, { allowConsumers: [] }, false],
    ['an API key on a route with a list (not a consumer)', apiKey, { allowGroups: ['billing'] }, false],
  ])('%s → %s', (_, identity, input, expected) => {
    expect(aclAllows(identity, auth(input))).toBe(expected)
  })
})
