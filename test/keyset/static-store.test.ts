import { describe, expect, it } from 'vitest'
import { staticKeySet } from '../../src/keyset/static-store.js'
import type { KeySetSource } from '../../src/keyset/schema.js'
import { testKeySet } from '../support/fixtures.js'

const idOf = async (source: KeySetSource) => (await staticKeySet(source).current({ waitUntil() {} })).snapshotId

/** The same object with its keys listed in reverse order, at every depth. */
function reversed<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversed) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).reverse().map(([k, inner]) => [k, reversed(inner)])) as T
}

describe('staticKeySet snapshot ids', () => {
  it('follow the content: equal for the same content however its keys are ordered', async () => {
    const source = await testKeySet('https://o.test')
    const id = await idOf(source)
    expect(id).toMatch(/^static-[0-9a-f]{32}$/)
    expect(await idOf(structuredClone(source))).toBe(id)
    expect(await idOf(reversed(source))).toBe(id)
  })

  it.each<[string, (source: KeySetSource) => KeySetSource]>([
    ['an API key removed', (s) => ({ ...s, apiKeys: Object.fromEntries(Object.entries(s.apiKeys).slice(1)) })],
    ['a grant changed', (s) => ({ ...s, apiKeys: Object.fromEntries(Object.entries(s.apiKeys).map(([d, r], i) => [d, i === 0 ? { ...r, grants: [] } : r])) })],
    ['a route removed', (s) => ({ ...s, routes: s.routes.slice(1) })],
    ['the routes reordered (first match wins)', (s) => ({ ...s, routes: [...s.routes].reverse() })],
    ['a project added', (s) => ({ ...s, projects: { ...s.projects, '77777777-7777-4777-8777-777777777777': '11111111-1111-4111-8111-111111111111' } })],
    ['legacy-token data added', (s) => ({ ...s, legacy: { namespaces: {}, tokens: {} } })],
  ])('change with %s', async (_, change) => {
    const source = await testKeySet('https://o.test')
    expect(await idOf(change(source))).not.toBe(await idOf(source))
  })
})
