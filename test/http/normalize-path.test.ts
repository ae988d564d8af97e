import { describe, expect, it } from 'vitest'
import { EdgeAuthError } from '../../src/errors.js'
import { normalizePath, normalizePathRemembered, routePrefixNormalForm } from '../../src/http/normalize-path.js'

describe('normalizePath', () => {
  it.each([
    ['/', '/'],
    ['/app', '/app'],
    ['/app/', '/app/'],
    ['//app///x', '/app/x'],
    ['/app/./x', '/app/x'],
    ['/app/../admin', '/admin'],
    ['/../../etc', '/etc'],
    ['/%61pp', '/app'],
    ['/a%7Eb%2Dc%5F', '/a~b-c_'],
    ['/a%20b', '/a%20b'],
    ['/a%3Fb', '/a%3Fb'],
    ['/app/x/..', '/app'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/file%2Ejson', '/file.json'],
    ['/a/...', '/a/...'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePath(raw)).toBe(expected)
  })

  // The forms Tomcat, Jetty, Spring, IIS, CGI servers or a double-decoding framework read
  // differently from the gateway (Spring Security's StrictHttpFirewall refuses the same).
  it.each([
    ['an encoded slash', '/app%2Fadmin'],
    ['an encoded slash, lower case', '/app%2fadmin'],
    ['an encoded backslash', '/app%5Cadmin'],
    ['a backslash', '/app\\admin'],
    ['a malformed escape', '/app/%zz'],
    ['a truncated escape', '/app/%4'],
    ['Tomcat ..; (path parameter on a dot segment)', '/app/..;/admin'],
    ['a path parameter', '/app;jsessionid=1'],
    ['a matrix parameter mid-path', '/app/a;b=c/d'],
    ['an encoded semicolon', '/app/%3B'],
    ['an encoded semicolon, lower case', '/app/..%3b/admin'],
    ['a double-encoded dot', '/app/%252e%252e/admin'],
    ['a double-encoded slash', '/app%252Fadmin'],
    ['an encoded NUL', '/app/%00'],
    ['an encoded line feed', '/app/a%0Ab'],
    ['an encoded DEL', '/app/%7F'],
    ['an encoded dot segment', '/app/%2e%2e/admin'],
    ['an encoded dot segment, upper case', '/app/%2E/x'],
    ['a half-encoded dot segment', '/app/.%2e/admin'],
    ['a half-encoded dot segment, the other half', '/app/%2E./admin'],
  ])('refuses %s (%s) with path_invalid', (_, raw) => {
    expect(() => normalizePath(raw)).toThrow(EdgeAuthError)
    expect(() => normalizePath(raw)).toThrow(expect.objectContaining({ code: 'path_invalid' }))
  })

  it('is idempotent', () => {
    for (const raw of ['//a/./b/../c/', '/%61/b/../c%c3%a9', '/a%20b/%7e']) {
      const once = normalizePath(raw)
      expect(normalizePath(once)).toBe(once)
    }
  })
})

describe('routePrefixNormalForm', () => {
  it.each([
    ['/', '/'],
    ['/~alice', '/~alice'],
    ['/%7Ealice', '/~alice'],
    ['/café', '/caf%C3%A9'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a b', '/a%20b'],
    ['/app/./x', '/app/x'],
    ['/app/../admin', '/admin'],
    ['/app/%2e%2e', '/'],
  ])('%s is written %s', (prefix, normal) => {
    expect(routePrefixNormalForm(prefix)).toBe(normal)
  })

  it.each(['/a;b', '/app/..;', '/a%3Bb', '/a%2Fb', '/a\\b', '/a%252e', '/a%00'])('refuses %s with path_invalid', (prefix) => {
    expect(() => routePrefixNormalForm(prefix)).toThrow(expect.objectContaining({ code: 'path_invalid' }))
  })
})

describe('normalizePathRemembered', () => {
  it('answers what normalizePath answers, the first time and again, and keeps refusing what it refuses', () => {
    for (let i = 0; i < 2; i++) {
      expect(normalizePathRemembered('/%61pp//x/./y/../z')).toBe('/app/x/z')
      expect(() => normalizePathRemembered('/app/..;/admin')).toThrow(expect.objectContaining({ code: 'path_invalid' }))
    }
  })
})
