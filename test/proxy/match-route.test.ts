import { describe, expect, it } from 'vitest'
import type { EdgeAuthError } from '../../src/errors.js'
import * as v from 'valibot'
import { RouteSchema, type Route } from '../../src/keyset/schema.js'
import { matchRoute, matchRouteRemembered, prefixMatches } from '../../src/proxy/match-route.js'

const target = { url: 'https://origin.test', kind: 'function', projectId: '22222222-2222-4222-8222-222222222222', privacy: 'private' } as const
const route = (id: string, paths: string[], methods?: string[]): Route => v.parse(RouteSchema, { id, paths, methods, target })

describe('prefixMatches', () => {
  it.each([
    ['/app', '/app', true],
    ['/app', '/app/', true],
    ['/app', '/app/x/y', true],
    ['/app', '/apple', false],
    ['/app', '/ap', false],
    ['/', '/anything', true],
    ['/a/b', '/a/bc', false],
  ])('%s on %s → %s', (prefix, path, expected) => {
    expect(prefixMatches(prefix, path)).toBe(expected)
  })
})

describe('matchRoute', () => {
  const routes = [route('root', ['/']), route('app', ['/app'], ['GET']), route('deep', ['/app/admin'], ['POST']), route('other', ['/other', '/alias'])]

  it('picks the route of the longest matching prefix', () => {
    expect(matchRoute(routes, '/app/admin/x', 'POST').route.id).toBe('deep')
    expect(matchRoute(routes, '/app/x', 'GET').route.id).toBe('app')
    expect(matchRoute(routes, '/apple', 'GET').route.id).toBe('root')
    expect(matchRoute(routes, '/alias/1', 'PUT').route.id).toBe('other')
  })

  it.each([
    ['/app/admin/x', 'GET', ['POST']],
    ['/app/admin', 'DELETE', ['POST']],
    ['/app/x', 'POST', ['GET', 'HEAD']],
  ])('%s %s: a method the most specific route refuses is 405 there, never a shorter prefix’s route', (path, method, allow) => {
    expect(() => matchRoute(routes, path, method)).toThrow(expect.objectContaining({ code: 'method_not_allowed', details: { allow } }))
  })

  it('among routes sharing the longest prefix, takes the one that accepts the method, and lists all their methods', () => {
    const shared = [route('root', ['/']), route('read', ['/items'], ['GET']), route('write', ['/items'], ['POST', 'PUT'])]
    expect(matchRoute(shared, '/items/1', 'PUT').route.id).toBe('write')
    expect(matchRoute(shared, '/items/1', 'HEAD').route.id).toBe('read')
    expect(() => matchRoute(shared, '/items/1', 'DELETE')).toThrow(expect.objectContaining({ details: { allow: ['GET', 'HEAD', 'POST', 'PUT'] } }))
  })

  it('returns the rest of the path below the prefix', () => {
    expect(matchRoute(routes, '/app/x/y', 'GET')).toMatchObject({ prefix: '/app', rest: '/x/y' })
    expect(matchRoute(routes, '/app', 'GET')).toMatchObject({ prefix: '/app', rest: '' })
    expect(matchRoute(routes, '/', 'GET')).toMatchObject({ prefix: '/', rest: '' })
    expect(matchRoute(routes, '/zzz', 'GET')).toMatchObject({ prefix: '/', rest: '/zzz' })
  })

  it('serves HEAD where GET is allowed', () => {
    expect(matchRoute([route('app', ['/app'], ['GET'])], '/app', 'HEAD').route.id).toBe('app')
  })

  it('refuses an unknown path with route_not_found', () => {
    expect(() => matchRoute([route('app', ['/app'])], '/apple', 'GET')).toThrow(expect.objectContaining({ code: 'route_not_found' }))
  })

  it('refuses a method no matching route accepts with method_not_allowed and the allowed methods', () => {
    let error: EdgeAuthError | undefined
    try {
      matchRoute([route('app', ['/app'], ['GET', 'POST'])], '/app/x', 'DELETE')
    } catch (e) {
      error = e as EdgeAuthError
    }
    expect(error?.code).toBe('method_not_allowed')
    expect(error?.details.allow).toEqual(['GET', 'HEAD', 'POST'])
  })
})

describe('matchRouteRemembered', () => {
  const routes = [route('app', ['/app'], ['GET'])]

  it('answers what matchRoute answers, the same match again for the same table, method and path', () => {
    const first = matchRouteRemembered(routes, '/app/x', 'GET')
    expect(first).toEqual(matchRoute(routes, '/app/x', 'GET'))
    expect(matchRouteRemembered(routes, '/app/x', 'GET')).toBe(first)
  })

  it('keeps refusing what matchRoute refuses (not remembered)', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => matchRouteRemembered(routes, '/app/x', 'POST')).toThrow(expect.objectContaining({ code: 'method_not_allowed' }))
      expect(() => matchRouteRemembered(routes, '/other', 'GET')).toThrow(expect.objectContaining({ code: 'route_not_found' }))
    }
  })

  it('matches afresh for another route table (another snapshot)', () => {
    const next = [route('app-2', ['/app'], ['GET'])]
    matchRouteRemembered(routes, '/app/y', 'GET')
    expect(matchRouteRemembered(next, '/app/y', 'GET').route.id).toBe('app-2')
  })
})
