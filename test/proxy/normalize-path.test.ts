import { describe, expect, it } from 'vitest'
import { EdgeAuthError } from '../../src/errors.js'
import { normalizePath } from '../../src/proxy/normalize-path.js'

describe('normalizePath', () => {
  it.each([
    ['/', '/'],
    ['/app', '/app'],
    ['/app/', '/app/'],
    ['//app///x', '/app/x'],
    ['/app/./x', '/app/x'],
    ['/app/../admin', '/admin'],
    ['/app/%2e%2e/admin', '/admin'],
    ['/app/%2E/x', '/app/x'],
    ['/../../etc', '/etc'],
    ['/%61pp', '/app'],
    ['/a%7Eb%2Dc%5F', '/a~b-c_'],
    ['/a%20b', '/a%20b'],
    ['/a%3Fb', '/a%3Fb'],
    ['/app/x/..', '/app'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePath(raw)).toBe(expected)
  })

  it.each(['/app%2Fadmin', '/app%2fadmin', '/app%5Cadmin', '/app\\admin', '/app/%zz', '/app/%4'])('refuses %s with path_invalid', (raw) => {
    expect(() => normalizePath(raw)).toThrow(EdgeAuthError)
    try {
      normalizePath(raw)
    } catch (error) {
      expect((error as EdgeAuthError).code).toBe('path_invalid')
    }
  })

  it('is idempotent', () => {
    for (const raw of ['//a/./b/../c/', '/%61/%2e%2e/b']) {
      const once = normalizePath(raw)
      expect(normalizePath(once)).toBe(once)
    }
  })
})
