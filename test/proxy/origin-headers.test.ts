import { describe, expect, it } from 'vitest'
import type { EdgeAuthIdentity } from '../../src/identity.js'
import { canonicalHeaderName, dropCredentialFromResponse, headersForClient, headersForOrigin, setIdentityHeaders } from '../../src/proxy/origin-headers.js'

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

  it('drops hop-by-hop fields and Accept-Encoding (the runtime negotiates its own with the origin)', () => {
    const incoming = new Headers([['keep-alive', 'timeout=5'], ['te', 'trailers'], ['upgrade', 'h2c'], ['proxy-connection', 'keep-alive'], ['accept-encoding', 'br'], ['accept', '*/*']])
    expect([...headersForOrigin(incoming, [], null).keys()]).toEqual(['accept'])
  })
})

describe('headersForClient', () => {
  it('drops hop-by-hop fields, those the Connection header names and X-Auth-Token in any spelling, and sets the request id', () => {
    const origin = new Headers([
      ['connection', 'x-drop-me'],
      ['x-drop-me', '1'],
      ['keep-alive', 'timeout=5'],
      ['x_auth_token', 'T'],
      ['X-Auth-Token', 'T'],
      ['x-request-id', 'from-origin'],
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
    ])
    const out = headersForClient(origin, 'req-1')
    expect([...out.keys()].sort()).toEqual(['content-type', 'set-cookie', 'x-request-id'])
    expect(out.get('x-request-id')).toBe('req-1')
  })

  it('drops Content-Encoding and Content-Length when the origin encoded the body (the runtime hands the body on decoded), as hono/proxy does', () => {
    const out = headersForClient(new Headers([['content-encoding', 'gzip'], ['content-length', '42'], ['content-type', 'text/plain']]), 'r')
    expect(out.has('content-encoding')).toBe(false)
    expect(out.has('content-length')).toBe(false)
    expect(out.get('content-type')).toBe('text/plain')
  })

  it('keeps Content-Length of an unencoded body', () => {
    expect(headersForClient(new Headers([['content-length', '42']]), 'r').get('content-length')).toBe('42')
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
