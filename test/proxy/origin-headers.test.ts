import { describe, expect, it } from 'vitest'
import type { EdgeAuthIdentity } from '../../src/identity.js'
import { canonicalHeaderName, dropCredentialFromResponse, headersForOrigin, setIdentityHeaders } from '../../src/proxy/origin-headers.js'

describe('canonicalHeaderName', () => {
  it.each([
    ['X-Consumer-ID', 'x-consumer-id'],
    ['x_consumer_id', 'x-consumer-id'],
    ['X_Consumer-Id', 'x-consumer-id'],
  ])('%s → %s', (name, canonical) => {
    expect(canonicalHeaderName(name)).toBe(canonical)
  })
})

describe('headersForOrigin', () => {
  it('removes controlled headers in every spelling, the route’s credential headers and the client-IP header, and keeps the rest', () => {
    const incoming = new Headers([
      ['x_consumer_id', 's'],
      ['X-Consumer-Groups', 's'],
      ['x_original_url', '/admin'],
      ['X-HTTP-Method-Override', 'DELETE'],
      ['true_client_ip', '203.0.113.1'],
      ['x_api_key', 'K'],
      ['x-my-client-ip', '203.0.113.2'],
      ['connection', 'x-drop-me'],
      ['x-drop-me', '1'],
      ['accept', 'application/json'],
      ['x_custom', 'kept'],
      ['cookie', 'a=1'],
    ])
    const out = headersForOrigin(incoming, ['X-Api-Key'], 'x-my-client-ip')
    const names: string[] = []
    out.forEach((_, name) => void names.push(name))
    expect(names.sort()).toEqual(['accept', 'cookie', 'x_custom'])
  })
})

describe('setIdentityHeaders', () => {
  const identity = (name: string, customId?: string): EdgeAuthIdentity => ({
    method: 'consumer-jwt',
    credentialId: 'k',
    principal: { type: 'consumer', id: 'c-1', name },
    consumer: { id: 'c-1', username: name, customId, groups: [] },
  })

  it.each([
    ['admin', 'admin'],
    ['alice smith', 'alice smith'],
    ['zoë', 'zoë'],
    [' admin', null],
    ['admin ', null],
    ['\tadmin', null],
  ])('username %j → X-Consumer-Username %j', (name, expected) => {
    const headers = new Headers()
    setIdentityHeaders(headers, identity(name, name))
    expect(headers.get('x-consumer-username')).toBe(expected)
    expect(headers.get('x-consumer-custom-id')).toBe(expected)
    expect(headers.get('x-consumer-id')).toBe('c-1')
  })
})

describe('dropCredentialFromResponse', () => {
  it('removes X-Auth-Token in any spelling', () => {
    const headers = new Headers([['x-auth-token', 'T'], ['x_auth_token', 'T'], ['content-type', 'text/plain']])
    dropCredentialFromResponse(headers)
    expect([...headers.keys()]).toEqual(['content-type'])
  })
})
