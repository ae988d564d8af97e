import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { fromBinary, toBinary } from '../../src/middleware/body-credential/binary.js'
import { formFields } from '../../src/middleware/body-credential/form.js'
import { takeBodyCredentials } from '../../src/middleware/body-credential/index.js'
import { jsonFields } from '../../src/middleware/body-credential/json.js'
import { multipartFields } from '../../src/middleware/body-credential/multipart.js'

const K = '0b7e2ad8-3c1f-4c41-9b9e-2f0a4f3c5d6e'
const NAMES = ['api_key']
const bin = (text: string) => toBinary(new TextEncoder().encode(text))
const text = (binary: string) => new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(fromBinary(binary))

describe('formFields: pairs cut out of the raw body', () => {
  it.each<[string, string[], string]>([
    [`a=1&api_key=${K}&b=x%20y+z`, [K], 'a=1&b=x%20y+z'],
    [`api_key=${K}`, [K], ''],
    [`api%5Fkey=${K}&&flag&=x`, [K], '&flag&=x'],
    [`api_key=${K}&api_key=other`, [K, 'other'], ''],
    [`api_key=a%2Bb%3D%3D&x=1`, ['a+b=='], 'x=1'],
    [`api_key=a=b`, ['a=b'], ''],
    ['api_key', [''], ''],
    ['api_keys=1&xapi_key=2', [], 'api_keys=1&xapi_key=2'],
  ])('%s → %j, %s', (body, values, rest) => {
    const found = formFields(bin(body), NAMES)
    expect(found.values.map((v) => v.value)).toEqual(values)
    expect(text(found.rest)).toBe(rest)
  })

  it('keeps bytes that are not UTF-8 as they were', () => {
    const body = `x=\xff\xfe&api_key=${K}&y=\x80`
    expect(formFields(body, NAMES).rest).toBe('x=\xff\xfe&y=\x80')
  })
})

describe('jsonFields: members cut out of the raw text', () => {
  it.each<[string, string[], string]>([
    [`{"a": 1, "api_key": "${K}", "b": [1, {"api_key": "x"}]}`, [K], '{"a": 1, "b": [1, {"api_key": "x"}]}'],
    [`{"api_key":"${K}","a":1}`, [K], '{"a":1}'],
    [`{"a":1,"api_key":"${K}"}`, [K], '{"a":1}'],
    [`{\n  "a": 1,\n  "api_key": "${K}"\n}`, [K], '{\n  "a": 1\n}'],
    [` { "api_key" : "${K}" } `, [K], ' {  } '],
    [`{"api_key":"${K}","a":1,"api_key":"${K}","b":2}`, [K, K], '{"a":1,"b":2}'],
    [`{"a":1,"api_key":"${K}","api_key":"${K}"}`, [K, K], '{"a":1}'],
    [`{"n":12345678901234567890,"api_key":"${K}","f":1.50,"e":1E+2}`, [K], '{"n":12345678901234567890,"f":1.50,"e":1E+2}'],
    [`{"s":"a\\"}{,","api_key":"${K}","t":"\\\\"}`, [K], '{"s":"a\\"}{,","t":"\\\\"}'],
    [`{"api\\u005fkey":"${K}","é":"ü"}`, [K], '{"é":"ü"}'],
    [`{"x":{"api_key":"${K}"}}`, [], `{"x":{"api_key":"${K}"}}`],
    [`["api_key","${K}"]`, [], `["api_key","${K}"]`],
    ['"api_key"', [], '"api_key"'],
    ['{}', [], '{}'],
    [`\ufeff{"api_key":"${K}","a":true}`, [K], '\ufeff{"a":true}'],
  ])('%s → %j, %s', (body, values, rest) => {
    const found = jsonFields(bin(body), NAMES)
    expect(found.values.map((v) => v.value)).toEqual(values)
    expect(text(found.rest)).toBe(rest)
  })

  it.each([
    ['a number', '{"api_key":12345}', 'credentials_malformed'],
    ['null', '{"api_key":null}', 'credentials_malformed'],
    ['an object', '{"api_key":{"v":"x"}}', 'credentials_malformed'],
    ['text that is not JSON', '{"api_key":', 'body_invalid'],
    ['bytes that are not UTF-8', '{"a":"\xff"}', 'body_invalid'],
  ])('refuses %s', (_, body, code) => {
    expect(() => jsonFields(body.startsWith('{"a":"\xff') ? body : bin(body), NAMES)).toThrow(expect.objectContaining({ code }))
  })
})

describe('multipartFields: parts cut out of the raw body', () => {
  const B = 'XyZ'
  const part = (headers: string, content: string) => `--${B}\r\n${headers}\r\n\r\n${content}\r\n`
  const field = (name: string, content: string) => part(`Content-Disposition: form-data; name="${name}"`, content)
  const end = `--${B}--\r\n`

  it.each<[string, string, string[], string]>([
    ['a field among others', field('a', '1') + field('api_key', K) + field('b', '2') + end, [K], field('a', '1') + field('b', '2') + end],
    ['the last field', field('a', '1') + field('api_key', K) + end, [K], field('a', '1') + end],
    ['the only field', field('api_key', K) + end, [K], end],
    ['a preamble and an epilogue', `preamble\r\n${field('api_key', K)}${field('a', '1')}--${B}--\r\nepilogue`, [K], `preamble\r\n${field('a', '1')}--${B}--\r\nepilogue`],
    ['transport padding after a delimiter', `--${B}  \r\nContent-Disposition: form-data; name="api_key"\r\n\r\n${K}\r\n${end}`, [K], end],
    ['a name in lower-case header, unquoted', part(`content-disposition: form-data; name=api_key`, K) + end, [K], end],
    ['a part with a Content-Type', part(`Content-Disposition: form-data; name="api_key"\r\nContent-Type: text/plain`, K) + end, [K], end],
    ['a file part of that name', part(`Content-Disposition: form-data; name="api_key"; filename="k.txt"`, K) + end, [], part(`Content-Disposition: form-data; name="api_key"; filename="k.txt"`, K) + end],
    ['a filename* part of that name', part(`Content-Disposition: form-data; name="api_key"; filename*=UTF-8''k.txt`, K) + end, [], part(`Content-Disposition: form-data; name="api_key"; filename*=UTF-8''k.txt`, K) + end],
    ['a field named filename-like', field('xapi_key', K) + end, [], field('xapi_key', K) + end],
    ['an empty part without headers', `--${B}\r\n\r\n--${B}\r\n${field('api_key', K).slice(B.length + 4)}${end}`, [K], `--${B}\r\n\r\n${end}`],
    ['binary content in another part', field('bin', '\xff\x00\xfe') + field('api_key', K) + end, [K], field('bin', '\xff\x00\xfe') + end],
  ])('%s', (_, body, values, rest) => {
    const found = multipartFields(body, B, NAMES)
    expect(found.values.map((v) => v.value)).toEqual(values)
    expect(found.rest).toBe(rest)
  })

  it.each([
    ['no delimiter', 'a=1'],
    ['no closing delimiter', field('api_key', K)],
    ['a part without the end of its headers', `--${B}\r\nContent-Disposition: form-data; name="api_key"`],
    ['line feeds only', `--${B}\nContent-Disposition: form-data; name="api_key"\n\n${K}\n--${B}--\n`],
  ])('refuses %s as body_invalid', (_, body) => {
    expect(() => multipartFields(body, B, NAMES)).toThrow(expect.objectContaining({ code: 'body_invalid' }))
  })
})

describe('takeBodyCredentials in a Hono app', () => {
  const app = (fields: string[], maxBytes = 1024) => {
    const hono = new Hono()
    hono.post('*', async (c) => {
      const found = await takeBodyCredentials(c, fields, maxBytes)
      // What the app's own handler reads after the middleware: the body without the key.
      return c.json({ found, parsed: await c.req.parseBody().catch(() => null), length: c.req.header('content-length') })
    })
    return hono
  }

  it("hands the app's handlers the body without the key, with its Content-Length", async () => {
    const res = await app(NAMES).request('/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=1&api_key=${K}` })
    expect(await res.json()).toEqual({ found: [{ value: K, location: 'body:api_key' }], parsed: { a: '1' }, length: '3' })
  })

  it('reads nothing when the route names no field', async () => {
    const res = await app([]).request('/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `api_key=${K}` })
    expect(await res.json()).toMatchObject({ found: [], parsed: { api_key: K } })
  })
})
