import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { RouteSchema } from '../../src/keyset/schema.js'
import { matchRoute } from '../../src/proxy/match-route.js'
import { forwardedSearch, upstreamUrl } from '../../src/proxy/upstream-url.js'

describe('forwardedSearch', () => {
  it.each([
    ['?x=a%20b&apikey=K&flag', '?x=a%20b&flag'],
    ['?apikey=K', ''],
    ['?apikey=K&', ''],
    ['?a=1&&b=2&apikey=K', '?a=1&&b=2'],
    ['?api%6Bey=K&x=1', '?x=1'],
    ['?api+key=K&apikey=K&x=1', '?api+key=K&x=1'],
    ['?apikey&x=1', '?x=1'],
    ['?apikeys=K&x=%2B', '?apikeys=K&x=%2B'],
    ['?x=1;apikey=K', '?x=1;apikey=K'],
  ])('%s → %s', (search, expected) => {
    expect(forwardedSearch(search, ['apikey'])).toBe(expected)
  })

  it('returns the query untouched, byte for byte, with nothing to remove', () => {
    for (const search of ['', '?', '?q=a%20b&r=c+d&empty=&flag&x=%7e']) expect(forwardedSearch(search, ['apikey'])).toBe(search)
    expect(forwardedSearch('?apikey=K', [])).toBe('?apikey=K')
  })
})

describe('upstreamUrl', () => {
  const route = (url: string, stripPath = true) => v.parse(RouteSchema, { id: 'r', paths: ['/app'], stripPath, target: { url, kind: 'function', projectId: '22222222-2222-4222-8222-222222222222', privacy: 'private' } })

  it.each([
    ['https://o.example/fn', '/app/x', '?y=1', 'https://o.example/fn/x?y=1'],
    ['https://o.example/fn?v=2', '/app/x', '?y=1', 'https://o.example/fn/x?v=2&y=1'],
    ['https://o.example/fn?v=2', '/app', '', 'https://o.example/fn?v=2'],
    ['https://o.example/fn?v=a%20b', '/app', '?w=c+d', 'https://o.example/fn?v=a%20b&w=c+d'],
    ['https://o.example/fn/', '/app/x', '', 'https://o.example/fn/x'],
  ])('%s with %s%s → %s', (target, path, search, expected) => {
    const r = route(target)
    expect(upstreamUrl(target, matchRoute([r], path, 'GET'), path, search).href).toBe(expected)
  })

  it('keeps the prefix when the route does not strip it', () => {
    const r = route('https://o.example/fn?v=2', false)
    expect(upstreamUrl(r.target.url, matchRoute([r], '/app/x', 'GET'), '/app/x', '?y=1').href).toBe('https://o.example/fn/app/x?v=2&y=1')
  })
})
