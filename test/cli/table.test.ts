import { describe, expect, it } from 'vitest'
import { ROUTE_COLUMNS, routeIdFor } from '../../src/cli/commands/route.js'
import { cell, formatFields, formatTable } from '../../src/cli/lib/table.js'
import type { RouteJson } from '../../src/cli/lib/wire.js'

describe('formatTable', () => {
  const columns = [
    { header: 'algorithm', value: (r: { a: string; s: string | null; i: string }) => r.a },
    { header: 'secret', value: (r: { a: string; s: string | null; i: string }) => r.s },
    { header: 'iss', value: (r: { a: string; s: string | null; i: string }) => r.i },
  ]

  it('aligns columns two spaces apart under upper-case headers, without trailing spaces', () => {
    const text = formatTable(columns, [
      { a: 'HS256', s: 'a-rather-long-secret', i: 'k1' },
      { a: 'ES256', s: null, i: 'https://issuer.example/app' },
    ])
    expect(text).toBe(
      ['ALGORITHM  SECRET                ISS', 'HS256      a-rather-long-secret  k1', 'ES256      -                     https://issuer.example/app', ''].join('\n'),
    )
  })

  it('keeps one line per row: line breaks and tabs in a value become spaces', () => {
    expect(formatTable([{ header: 'pem', value: (r: string) => r }], ['-----BEGIN\nAAA\n-----END'])).toBe('PEM\n-----BEGIN AAA -----END\n')
  })

  it('counts code points, not UTF-16 units', () => {
    expect(formatTable([{ header: 'u', value: (r: string) => r }, { header: 'x', value: () => 'x' }], ['é', '𝒳'])).toBe('U  X\né  x\n𝒳  x\n')
  })

  it.each([
    [null, '-'],
    [undefined, '-'],
    ['', '-'],
    [0, '0'],
    [false, 'false'],
  ])('cell(%j) is %j', (value, text) => {
    expect(cell(value)).toBe(text)
  })
})

describe('formatFields', () => {
  it('aligns the values after the longest key', () => {
    expect(formatFields([['id', 'app'], ['strip path', true], ['oidc', undefined]])).toBe('id:         app\nstrip path: true\noidc:       -\n')
  })
})

describe('route ls columns', () => {
  const route = (over: Partial<RouteJson>): RouteJson => ({
    id: 'app',
    paths: ['/app'],
    target: { url: 'https://x.example', kind: 'function', projectId: 'p', privacy: 'private', resourceName: 'hello' },
    ...over,
  })

  it('shows scwgw\'s RELATIVE URL, TARGET and HTTP_METHODS after the id, and what the route accepts', () => {
    const text = formatTable(ROUTE_COLUMNS, [
      route({ auth: { accept: ['consumer-jwt'] } }),
      route({ id: 'ext', paths: ['/ext', '/x'], methods: ['GET', 'POST'], target: { url: 'https://ext.example', kind: 'container', projectId: 'p', privacy: 'public' } }),
    ])
    expect(text.split('\n')).toEqual([
      'ID   RELATIVE URL  TARGET               HTTP_METHODS  AUTH',
      'app  /app          function:hello       All           consumer-jwt',
      'ext  /ext,/x       https://ext.example  GET,POST      any credential',
      '',
    ])
  })
})

describe('routeIdFor', () => {
  it.each([
    ['/app', 'app'],
    ['/v1/billing', 'v1-billing'],
    ['/', 'root'],
    ['/a b/ü', 'a-b-'],
    ['/.well-known', 'well-known'],
  ])('%s → %s', (path, id) => {
    expect(routeIdFor(path)).toBe(id)
  })
})
