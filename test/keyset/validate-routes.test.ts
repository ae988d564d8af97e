import { describe, expect, it } from 'vitest'
import { assertSecureTargets, assertValidRoutes, insecureTargetReason } from '../../src/keyset/validate-routes.js'

describe('assertValidRoutes: prefixes in normal form', () => {
  it.each([
    ['/%7Ealice', /write "\/~alice"/],
    ['/app/./x', /write "\/app\/x"/],
    ['/caf%c3%a9', /write "\/caf%C3%A9"/],
    ['/a;b=c', /form that requests may not have/],
    ['/a%2Fb', /form that requests may not have/],
    ['/a%252e', /form that requests may not have/],
  ])('refuses %s', (path, message) => {
    expect(() => assertValidRoutes([{ id: 'r', paths: [path] }])).toThrow(TypeError)
    expect(() => assertValidRoutes([{ id: 'r', paths: [path] }])).toThrow(message)
  })

  it('accepts prefixes in normal form', () => {
    expect(() => assertValidRoutes([{ id: 'r', paths: ['/', '/~alice', '/caf%C3%A9', '/a%20b'] }])).not.toThrow()
  })
})

describe('insecureTargetReason', () => {
  const strict = { allowInsecureLoopbackOrigins: false }
  const local = { allowInsecureLoopbackOrigins: true }
  it.each([
    ['https://origin.example', 'private', strict, false],
    ['http://origin.example', 'private', strict, true],
    ['http://127.0.0.1:8788', 'private', strict, true],
    ['http://origin.example', 'public', strict, false],
    ['http://127.0.0.1:8788', 'private', local, false],
    ['http://127.1', 'private', local, false],
    ['http://localhost:1', 'private', local, false],
    ['http://[::1]:1', 'private', local, false],
    ['http://[0:0::1]:1', 'private', local, false],
    ['http://10.0.0.1', 'private', local, true],
    ['http://127.0.0.1.example', 'private', local, true],
    ['http://localhost.example', 'private', local, true],
  ] as const)('%s (%s, %o) refused: %s', (url, privacy, rules, refused) => {
    expect(insecureTargetReason({ url, privacy }, rules) !== undefined).toBe(refused)
  })

  it('names the route and the setting', () => {
    expect(() => assertSecureTargets([{ id: 'billing', target: { url: 'http://127.0.0.1', privacy: 'private' } }], { allowInsecureLoopbackOrigins: false })).toThrow(
      /route "billing": .*https:\/\/.*ALLOW_INSECURE_LOOPBACK_ORIGINS/,
    )
  })
})
