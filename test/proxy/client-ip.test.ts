import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGateway, staticKeySet, type KeySetSource } from '../../src/index.js'
import { clientIpFromHeader } from '../../src/proxy/client-ip.js'
import { secrets, testKeySet } from '../support/fixtures.js'
import type { OriginEcho } from '../support/origin.js'

const request = (headers: Record<string, string>, cf?: RequestInitCfProperties): Request => new Request('https://gw.example/x', { headers, ...(cf ? { cf } : {}) })

describe('clientIpFromHeader', () => {
  it.each([
    ['CF-Connecting-IP on Cloudflare', request({ 'cf-connecting-ip': '198.51.100.4' }, { colo: 'CDG' }), 'cf-connecting-ip', '198.51.100.4'],
    ['CF-Connecting-IP off Cloudflare', request({ 'cf-connecting-ip': '198.51.100.4' }), 'cf-connecting-ip', undefined],
    ['an IPv6 address', request({ 'cf-connecting-ip': '2001:db8::1' }, {}), 'cf-connecting-ip', '2001:db8::1'],
    ['a configured header, anywhere', request({ 'x-real-ip': '192.0.2.5' }), 'x-real-ip', '192.0.2.5'],
    ["X-Forwarded-For: the entry your proxy appended", request({ 'x-forwarded-for': '203.0.113.9, 192.0.2.5' }), 'x-forwarded-for', '192.0.2.5'],
    ['something that is not an address', request({ 'x-real-ip': 'evil<script>' }), 'x-real-ip', undefined],
    ['no header configured', request({ 'cf-connecting-ip': '198.51.100.4' }, {}), null, undefined],
  ])('%s → %s', (_, req, header, expected) => {
    expect(clientIpFromHeader(req, header)).toBe(expected)
  })
})

describe('createGateway client IP options', () => {
  let source: KeySetSource
  beforeAll(async () => {
    source = await testKeySet()
  })
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  const gateway = (options: Partial<Parameters<typeof createGateway>[0]>) =>
    createGateway({ keySet: () => staticKeySet(source), originToken: () => env.ORIGIN_AUTH_TOKEN, allowInsecureLoopbackOrigins: true, accessLog: 'off', ...options })

  it('takes the connection’s address (Node, Bun, Deno) when no trusted header names one; a client’s CF-Connecting-IP is dropped', async () => {
    const app = gateway({ connectionIp: () => '192.0.2.77' })
    const res = await app.request('https://gw.example/hello', { headers: { 'x-auth-token': secrets.functions, 'cf-connecting-ip': '203.0.113.9' } }, env, ctx)
    const echo = (await res.json()) as OriginEcho
    expect(echo.headers['x-forwarded-for']).toBe('192.0.2.77')
    expect(JSON.stringify(echo)).not.toContain('203.0.113.9')
  })

  it('refuses a client IP header that is not a header name', () => {
    expect(() => gateway({ clientIpHeader: 'x real ip' })).toThrow(/clientIpHeader/)
  })
})
