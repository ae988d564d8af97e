import { env } from 'cloudflare:workers'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { corsOriginProblem, RouteCorsSchema, StrictRouteCorsSchema } from '../../src/keyset/cors-schema.js'
import { writeKeySet } from '../../src/keyset/writer.js'
import { PROJECT } from '../support/fixtures.js'

describe('corsOriginProblem: origins as browsers send them', () => {
  it.each([
    'https://app.example',
    'http://localhost:5173',
    'https://app.example:8443',
    'http://127.0.0.1:8080',
    'http://[::1]:3000',
    'https://xn--caf-dma.example',
    'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
    'capacitor://localhost',
  ])('%s is an origin', (origin) => {
    expect(corsOriginProblem(origin)).toBeUndefined()
  })

  it.each([
    ['https://app.example/', 'write "https://app.example"'],
    ['https://app.example/app', 'write "https://app.example"'],
    ['https://App.Example', 'write "https://app.example"'],
    ['https://app.example:443', 'write "https://app.example"'],
    ['http://app.example:80', 'write "http://app.example"'],
    ['https://user@app.example', 'write "https://app.example"'],
    ['https://app.example?x=1', 'write "https://app.example"'],
    ['https://café.example', 'write "https://xn--caf-dma.example"'],
    ['app.example', 'scheme://host[:port]'],
    ['https://*.app.example', 'scheme://host[:port]'],
    ['null', 'scheme://host[:port]'],
    ['', 'scheme://host[:port]'],
    ['capacitor://localhost/', 'scheme://host[:port]'],
    ['Capacitor://localhost', 'scheme://host[:port]'],
    ['capacitor://localhost:99999', 'scheme://host[:port]'],
  ])('%s is refused: %s', (origin, message) => {
    expect(corsOriginProblem(origin)).toContain(message)
  })
})

describe('RouteCorsSchema', () => {
  const issues = (input: unknown, schema: v.GenericSchema = StrictRouteCorsSchema) => {
    const result = v.safeParse(schema, input)
    return result.success ? [] : result.issues.map((issue) => `${v.getDotPath(issue)}: ${issue.message}`)
  }

  it('applies the defaults: no credentials, no exposed headers; methods and headers left to the route and the preflight', () => {
    expect(v.parse(RouteCorsSchema, { origins: ['https://app.example'] })).toEqual({ origins: ['https://app.example'], exposedHeaders: [], credentials: false })
  })

  it.each<[string, unknown, string]>([
    ['a wildcard with credentials', { origins: ['*'], credentials: true }, 'credentials: must not be true with origins ["*"]: browsers refuse a wildcard with credentials; list the origins'],
    ['a wildcard among origins', { origins: ['*', 'https://app.example'] }, 'origins: "*" stands alone: any origin, or a list of origins'],
    ['an origin with a path', { origins: ['https://app.example/app'] }, 'origins.0: not an origin as browsers send it; write "https://app.example"'],
    ['a pattern', { origins: ['https://*.example'] }, 'origins.0: not an origin: write scheme://host[:port] in lower case, without a path or a pattern, or "*"'],
    ['no origin', { origins: [] }, 'origins: list at least one origin'],
    ['an empty header list', { origins: ['https://app.example'], headers: [] }, 'headers: omit to allow the headers a preflight asks for'],
    ['a header that is no token', { origins: ['https://app.example'], exposedHeaders: ['X Trace'] }, 'exposedHeaders.0: not a header name'],
    ['a max age past a day', { origins: ['https://app.example'], maxAgeSeconds: 86_401 }, 'maxAgeSeconds: at most 86400'],
  ])('refuses %s, naming the field', (_, input, message) => {
    expect(issues(input)).toContain(message)
    expect(issues(input, RouteCorsSchema)).toContain(message)
  })

  it('the strict schema (the admin API) refuses an unknown field; the key-set one ignores it', () => {
    expect(issues({ origins: ['https://app.example'], allowOrigin: '*' })).toHaveLength(1)
    expect(issues({ origins: ['https://app.example'], allowOrigin: '*' }, RouteCorsSchema)).toEqual([])
  })
})

describe('the sync (writeKeySet) refuses a route table with a wildcard and credentials', () => {
  it('throws, naming the route and the field; nothing is written', async () => {
    const routes = [{ id: 'r', paths: ['/r'], target: { url: 'https://origin.example', kind: 'function' as const, projectId: PROJECT, privacy: 'private' as const }, cors: { origins: ['*'], credentials: true } }]
    const write = writeKeySet(env.KEYSET, { routes, projects: {}, apiKeys: {} }, { source: 'fixture' })
    await expect(write).rejects.toThrow(TypeError)
    await expect(write).rejects.toThrow(/browsers refuse a wildcard with credentials[\s\S]*routes\.0\.cors\.credentials/)
  })
})
