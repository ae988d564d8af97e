import { env, exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT, secrets, seedKeySet, testKeySet } from '../support/fixtures.js'
import { newMarker, originSaw, type OriginEcho } from '../support/origin.js'

// Kong key-auth habits, through the real Worker: header names in either spelling
// (api_key ≡ api-key), and an API key in the request body, opt-in per route, removed
// before the body reaches the origin (Kong's hide_credentials). docs/routes.md.
const KEY = secrets.functions
const OTHER = secrets.orgWide
const hello = { url: `${env.ORIGINS_URL}/functions/hello`, kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const }
const REALM = 'Bearer realm="edge-auth-gateway"'
const CONFLICT = `${REALM}, error="invalid_request", error_description="The request carries different credentials in several places."`
const MALFORMED = `${REALM}, error="invalid_request", error_description="The credential is not well-formed."`

beforeAll(async () => {
  const source = await testKeySet()
  source.routes.push(
    { id: 'underscore', paths: ['/underscore'], target: hello, auth: { headerNames: ['api_key'] } },
    { id: 'hyphen', paths: ['/hyphen'], target: hello, auth: { headerNames: ['x-api-key'] } },
    { id: 'body', paths: ['/body'], target: hello, auth: { bodyFields: ['api_key'] } },
    { id: 'body-small', paths: ['/body-small'], target: hello, auth: { bodyFields: ['api_key'], bodyMaxBytes: 1024 } },
    { id: 'body-conditional', paths: ['/body-ip'], target: hello, auth: { bodyFields: ['api_key'] } },
  )
  await seedKeySet(source)
})

const gateway = (path: string, init: RequestInit<RequestInitCfProperties> = {}) => exports.default.fetch(`https://gw.example${path}`, init)
const echoOf = async (res: Response): Promise<OriginEcho> => {
  expect(res.status).toBe(200)
  return (await res.json()) as OriginEcho
}

describe('header names in either spelling (api_key ≡ api-key)', () => {
  it.each([
    ['/underscore', 'api-key'],
    ['/underscore', 'api_key'],
    ['/underscore', 'API-Key'],
    ['/hyphen', 'x_api_key'],
    ['/hyphen', 'X-API-KEY'],
  ])('%s reads the key from %s, and the origin sees no spelling of it', async (path, header) => {
    const echo = await echoOf(await gateway(path, { headers: { [header]: KEY } }))
    expect(echo.headers['x-credential-identifier']).toBe('SCW00000000000000001')
    expect(JSON.stringify(echo)).not.toContain(KEY)
  })

  it('the same key in both spellings is one credential', async () => {
    const echo = await echoOf(await gateway('/underscore', { headers: [['api_key', KEY], ['api-key', KEY]] }))
    expect(echo.headers['x-credential-identifier']).toBe('SCW00000000000000001')
  })

  it('different keys in the two spellings are refused as a conflict, before the origin', async () => {
    const marker = newMarker()
    const res = await gateway('/underscore', { headers: [['api_key', KEY], ['api-key', OTHER], ['x-test-marker', marker]] })
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toBe(CONFLICT)
    expect(await res.json()).toMatchObject({ code: 'credentials_conflict' })
    expect(await originSaw(marker)).toBe(false)
  })

  it('a different key in the other spelling of a route header is a conflict with X-Auth-Token, not a header passed on', async () => {
    const marker = newMarker()
    const res = await gateway('/hyphen', { headers: [['x-auth-token', KEY], ['x_api_key', OTHER], ['x-test-marker', marker]] })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'credentials_conflict' })
    expect(await originSaw(marker)).toBe(false)
  })
})

const BOUNDARY = '----edgegw-test-7d1f'
const multipart = (parts: { name: string; value: string; filename?: string; type?: string }[]) =>
  parts
    .map(({ name, value, filename, type }) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n${value}\r\n`)
    .join('') + `--${BOUNDARY}--\r\n`
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`
const FORM = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'

describe('an API key in the body (bodyFields), removed before the origin', () => {
  it.each<[string, string, string, string]>([
    ['form', FORM, 'a=1&api_key=KEY&b=x%20y+z', 'a=1&b=x%20y+z'],
    ['form, the key first', FORM, 'api_key=KEY&a=1', 'a=1'],
    ['form, the key alone', FORM, 'api_key=KEY', ''],
    ['form, the name percent-encoded', FORM, 'api%5Fkey=KEY&flag&c=%7e', 'flag&c=%7e'],
    ['form, the key twice', FORM, 'api_key=KEY&a=1&api_key=KEY', 'a=1'],
    ['JSON', JSON_TYPE, '{"a": 1, "api_key": "KEY", "b": [1, {"api_key": "nested"}]}', '{"a": 1, "b": [1, {"api_key": "nested"}]}'],
    ['JSON, the key last', JSON_TYPE, '{"a":1,"api_key":"KEY"}', '{"a":1}'],
    ['JSON, the key alone', `${JSON_TYPE}; charset=utf-8`, '{ "api_key" : "KEY" }', '{  }'],
    ['JSON, numbers beyond double precision kept as written', JSON_TYPE, '{"n":12345678901234567890,"api_key":"KEY","f":1.50}', '{"n":12345678901234567890,"f":1.50}'],
    ['JSON, the name escaped', 'application/vnd.api+json', '{"api\\u005fkey":"KEY","x":"é"}', '{"x":"é"}'],
    ['JSON, the key twice', JSON_TYPE, '{"api_key":"KEY","a":1,"api_key":"KEY"}', '{"a":1}'],
    ['multipart', MULTIPART, multipart([{ name: 'a', value: '1' }, { name: 'api_key', value: 'KEY' }, { name: 'file', value: 'bytes', filename: 'f.txt', type: 'text/plain' }]), multipart([{ name: 'a', value: '1' }, { name: 'file', value: 'bytes', filename: 'f.txt', type: 'text/plain' }])],
    ['multipart, the key first', MULTIPART, multipart([{ name: 'api_key', value: 'KEY' }, { name: 'a', value: '1' }]), multipart([{ name: 'a', value: '1' }])],
  ])('%s', async (_, type, body, expected) => {
    const sent = body.replaceAll('KEY', KEY)
    const echo = await echoOf(await gateway('/body/x', { method: 'POST', headers: { 'content-type': type }, body: sent }))
    expect(echo.headers['x-credential-identifier']).toBe('SCW00000000000000001')
    expect(echo.body).toBe(expected)
    expect(echo.headers['content-length']).toBe(String(new TextEncoder().encode(expected).byteLength))
    expect(echo.headers['content-type']).toBe(type)
    expect(JSON.stringify(echo)).not.toContain(KEY)
  })

  it('a body key and the same key in X-Auth-Token: one credential, removed from the body', async () => {
    const echo = await echoOf(await gateway('/body', { method: 'PUT', headers: { 'x-auth-token': KEY, 'content-type': FORM }, body: `api_key=${KEY}&a=1` }))
    expect(echo.body).toBe('a=1')
  })

  it('a header key and a body without one: the body arrives byte for byte', async () => {
    const body = '{"a" : 1,\n  "b":"x"}'
    const echo = await echoOf(await gateway('/body', { method: 'POST', headers: { 'x-auth-token': KEY, 'content-type': JSON_TYPE }, body }))
    expect(echo.body).toBe(body)
  })

  it.each([
    ['text/plain', `api_key=${KEY}`],
    ['application/octet-stream', `{"api_key":"${KEY}"}`],
  ])('a %s body is not read: the key there is no credential', async (type, body) => {
    const marker = newMarker()
    const res = await gateway('/body', { method: 'POST', headers: { 'content-type': type, 'x-test-marker': marker }, body })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(REALM)
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
    expect(await originSaw(marker)).toBe(false)
  })

  it('a file part named like the field is no credential', async () => {
    const res = await gateway('/body', { method: 'POST', headers: { 'content-type': MULTIPART }, body: multipart([{ name: 'api_key', value: KEY, filename: 'key.txt' }]) })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'credentials_missing' })
  })

  it('a route without bodyFields does not read the body: 401, and with a header key the body passes untouched', async () => {
    const body = `api_key=${KEY}&a=1`
    const refused = await gateway('/hello', { method: 'POST', headers: { 'content-type': FORM }, body })
    expect(refused.status).toBe(401)
    const echo = await echoOf(await gateway('/hello', { method: 'POST', headers: { 'x-auth-token': KEY, 'content-type': FORM }, body }))
    expect(echo.body).toBe(body)
  })

  it('keeps request.cf: an IAM condition on the client IP still sees it, and the origin gets X-Forwarded-For', async () => {
    const init = { method: 'POST', body: `api_key=${secrets.conditional}&a=1`, cf: { colo: 'CDG' } }
    const echo = await echoOf(await gateway('/body-ip', { ...init, headers: { 'content-type': FORM, 'cf-connecting-ip': '203.0.113.7' } }))
    expect(echo.headers['x-forwarded-for']).toBe('203.0.113.7')
    expect(echo.body).toBe('a=1')
  })

  it('a GET request body is not read', async () => {
    const res = await gateway('/body', { headers: { 'content-type': FORM } })
    expect(res.status).toBe(401)
  })

  type Refusal = [string, string, string, number, string, string | null]
  it.each<Refusal>([
    ['a different key in the body and in X-Auth-Token', FORM, `api_key=${OTHER}`, 400, 'credentials_conflict', CONFLICT],
    ['two different keys in a JSON body', JSON_TYPE, `{"api_key":"${KEY}","api_key":"${OTHER}"}`, 400, 'credentials_conflict', CONFLICT],
    ['two different keys in a form body', FORM, `api_key=${KEY}&api_key=${OTHER}`, 400, 'credentials_conflict', CONFLICT],
    ['a JSON field that is not a string', JSON_TYPE, '{"api_key":12345}', 400, 'credentials_malformed', MALFORMED],
    ['a JSON body that does not parse', JSON_TYPE, `{"api_key":"${KEY}"`, 400, 'body_invalid', null],
    ['a multipart body without its closing boundary', MULTIPART, `--${BOUNDARY}\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n${KEY}\r\n`, 400, 'body_invalid', null],
    ['a multipart content type without a boundary', 'multipart/form-data', `--x\r\n\r\n`, 400, 'body_invalid', null],
  ])('refuses %s before the origin', async (_, type, body, status, code, challenge) => {
    const marker = newMarker()
    const headers: Record<string, string> = { 'content-type': type, 'x-test-marker': marker }
    if (body.includes(OTHER) && !body.includes(KEY)) headers['x-auth-token'] = KEY
    const res = await gateway('/body', { method: 'POST', headers, body })
    expect(res.status).toBe(status)
    expect(res.headers.get('www-authenticate')).toBe(challenge)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ code, status })
    expect(text).not.toContain(KEY)
    expect(await originSaw(marker)).toBe(false)
  })

  it.each([
    ['with a Content-Length', true],
    ['streamed, without a Content-Length', false],
  ])('refuses a body over bodyMaxBytes with 413 body_too_large (%s), before the origin', async (_, withLength) => {
    const marker = newMarker()
    const text = `api_key=${KEY}&pad=${'x'.repeat(2000)}`
    const body = withLength ? text : new Blob([text]).stream()
    const res = await gateway('/body-small', { method: 'POST', headers: { 'content-type': FORM, 'x-auth-token': KEY, 'x-test-marker': marker }, body, ...(withLength ? {} : { duplex: 'half' }) } as RequestInit)
    expect(res.status).toBe(413)
    expect(res.headers.get('www-authenticate')).toBeNull()
    expect(await res.json()).toMatchObject({ code: 'body_too_large', status: 413 })
    expect(await originSaw(marker)).toBe(false)
  })

  it('takes a body of exactly bodyMaxBytes', async () => {
    const head = `api_key=${KEY}&pad=`
    const echo = await echoOf(await gateway('/body-small', { method: 'POST', headers: { 'content-type': FORM }, body: head + 'x'.repeat(1024 - head.length) }))
    expect(echo.body).toBe(`pad=${'x'.repeat(1024 - head.length)}`)
  })
})
