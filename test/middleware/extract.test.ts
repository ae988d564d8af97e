import { describe, expect, it } from 'vitest'
import { caught } from '../support/errors.js'
import { parseCookies, withoutCookies } from '../../src/http/cookie-header.js'
import { credentialShape, extractCredential } from '../../src/middleware/extract.js'

const none = { queryParameters: [], cookies: [] }
const uuid = '0b7e2ad8-3c1f-4c41-9b9e-2f0a4f3c5d6e'
const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'
const req = (headers: Record<string, string>, url = 'https://gw.test/x') => new Request(url, { headers })

describe('extractCredential', () => {
  it.each([
    ['X-Auth-Token', { 'x-auth-token': uuid }, ['x-auth-token']],
    ['Bearer', { authorization: `Bearer ${uuid}` }, ['authorization']],
    ['bearer in lower case', { authorization: `bearer ${uuid}` }, ['authorization']],
    ['BEARER with extra spaces', { authorization: `BEARER    ${uuid}` }, ['authorization']],
    ['the same value twice', { 'x-auth-token': uuid, authorization: `Bearer ${uuid}` }, ['x-auth-token', 'authorization']],
  ])('finds the credential in %s', (_, headers, locations) => {
    expect(extractCredential(req(headers), none)).toEqual({ value: uuid, locations })
  })

  it('returns undefined with no credential, or with another Authorization scheme', () => {
    expect(extractCredential(req({}), none)).toBeUndefined()
    expect(extractCredential(req({ authorization: 'Basic dXNlcjpwYXNz' }), none)).toBeUndefined()
  })

  it.each([
    ['an empty Bearer', { authorization: 'Bearer' }],
    ['an empty X-Auth-Token', { 'x-auth-token': '' }],
    ['spaces inside the token', { authorization: `Bearer ${uuid} extra` }],
    ['a quote', { 'x-auth-token': `"${uuid}"` }],
    ['a repeated X-Auth-Token header (joined with a comma)', { 'x-auth-token': `${uuid}, ${uuid}` }],
    ['an oversized token', { 'x-auth-token': 'a'.repeat(8193) }],
  ])('refuses %s as malformed', (_, headers) => {
    expect(() => extractCredential(req(headers), none)).toThrow(expect.objectContaining({ code: 'credentials_malformed' }))
  })

  it('refuses different values in different places as a conflict', () => {
    expect(() => extractCredential(req({ 'x-auth-token': uuid, authorization: `Bearer ${jwt}` }), none)).toThrow(
      expect.objectContaining({ code: 'credentials_conflict' }),
    )
  })

  it.each([
    [['api_key'], [['api-key', uuid]], ['header:api-key']],
    [['api_key'], [['API_KEY', uuid]], ['header:api-key']],
    [['api-key'], [['api_key', uuid]], ['header:api-key']],
    [['X-Api-Key'], [['x_api_key', uuid], ['X-API-KEY', uuid]], ['header:x-api-key']],
  ])('reads the route header %j in any spelling: %j', (headerNames, headers, locations) => {
    expect(extractCredential(new Request('https://gw.test/x', { headers: headers as [string, string][] }), { ...none, headerNames })).toEqual({ value: uuid, locations })
  })

  it('refuses different values in two spellings of a route header as a conflict', () => {
    const request = new Request('https://gw.test/x', { headers: [['api_key', uuid], ['api-key', jwt]] })
    expect(() => extractCredential(request, { ...none, headerNames: ['api_key'] })).toThrow(expect.objectContaining({ code: 'credentials_conflict' }))
  })

  it('checks values from the body like the others: the same value is one credential, another a conflict, a bad one malformed', () => {
    expect(extractCredential(req({ 'x-auth-token': uuid }), none, [{ value: uuid, location: 'body:api_key' }])).toEqual({ value: uuid, locations: ['x-auth-token', 'body:api_key'] })
    expect(() => extractCredential(req({ 'x-auth-token': uuid }), none, [{ value: jwt, location: 'body:api_key' }])).toThrow(expect.objectContaining({ code: 'credentials_conflict' }))
    expect(() => extractCredential(req({}), none, [{ value: '', location: 'body:api_key' }])).toThrow(expect.objectContaining({ code: 'credentials_malformed' }))
  })

  it('reads opted-in query parameters and cookies only', () => {
    const request = req({ cookie: `session=abc; token=${uuid}` }, `https://gw.test/x?access_token=${uuid}`)
    expect(extractCredential(request, none)).toBeUndefined()
    expect(extractCredential(request, { queryParameters: ['access_token'], cookies: ['token'] })).toEqual({
      value: uuid,
      locations: ['query:access_token', 'cookie:token'],
    })
  })

  it('reads a credential cookie in any Cookie line (the runtime joins them with ", ")', () => {
    const request = new Request('https://gw.test/x', { headers: [['cookie', 'theme=dark'], ['cookie', `session=${uuid}`]] })
    expect(request.headers.get('cookie')).toBe(`theme=dark, session=${uuid}`)
    expect(extractCredential(request, { queryParameters: [], cookies: ['session'] })).toEqual({ value: uuid, locations: ['cookie:session'] })
  })

  it('sees a different credential cookie in a second Cookie line as a conflict', () => {
    const request = new Request('https://gw.test/x', { headers: [['x-auth-token', uuid], ['cookie', 'theme=dark'], ['cookie', `session=${jwt}`]] })
    expect(() => extractCredential(request, { queryParameters: [], cookies: ['session'] })).toThrow(expect.objectContaining({ code: 'credentials_conflict' }))
  })

  it('never puts the credential in an error message', async () => {
    const error = await caught(() => extractCredential(req({ 'x-auth-token': uuid, authorization: 'Bearer other-secret-value' }), none))
    expect(error.code).toBe('credentials_conflict')
    expect(error.message).not.toContain(uuid)
    expect(error.message).not.toContain('other-secret-value')
  })
})

describe('credentialShape', () => {
  it.each([
    [uuid, 'api-key'],
    [uuid.toUpperCase(), 'api-key'],
    [jwt, 'jwt'],
  ])('%s is %s', (value, shape) => {
    expect(credentialShape(value)).toBe(shape)
  })

  it.each(['not-a-token', 'a.b', 'a.b.c.d', '12345678-1234-1234-1234-12345678901'])('refuses %s', (value) => {
    expect(() => credentialShape(value)).toThrow(expect.objectContaining({ code: 'credentials_malformed' }))
  })
})

describe('parseCookies', () => {
  it('keeps repeated names and unquotes values', () => {
    expect(parseCookies('a=1; b="2"; a=3; broken')).toEqual(new Map([['a', ['1', '3']], ['b', ['2']]]))
  })

  it('reads the pairs of Cookie lines the runtime joined with ", "', () => {
    expect(parseCookies('a=1; b=2, session=K; c=3')).toEqual(new Map([['a', ['1']], ['b', ['2']], ['session', ['K']], ['c', ['3']]]))
  })
})

describe('withoutCookies', () => {
  it.each([
    ['b="q w"; session=K; a=1; c=%41', 'b="q w"; a=1; c=%41'],
    ['a=1; session=K; b=2; a=3', 'a=1; b=2; a=3'],
    ['session=K;theme=dark', 'theme=dark'],
    ['theme=dark;  session=K', 'theme=dark'],
    ['a=1;b=2; session=K', 'a=1;b=2'],
    ['a=1; b=2, session=K; c=3', 'a=1; b=2, c=3'],
    ['a=1, session=K', 'a=1'],
    ['session=K, a=1', 'a=1'],
    ['a=1; session=K; session=K', 'a=1'],
    ['a=1;;b=2; session=K', 'a=1;;b=2'],
    ['sessions=K; xsession=K', 'sessions=K; xsession=K'],
  ])('%s → %s', (header, expected) => {
    expect(withoutCookies(header, ['session'])).toBe(expected)
  })

  it('returns the header untouched when no pair is named, and undefined when nothing is left', () => {
    expect(withoutCookies(' a=1 ;b="2"', ['session'])).toBe(' a=1 ;b="2"')
    expect(withoutCookies('session=K', ['session'])).toBeUndefined()
    expect(withoutCookies('session=K; token=T', ['session', 'token'])).toBeUndefined()
  })
})
