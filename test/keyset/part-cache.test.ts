import { describe, expect, it } from 'vitest'
import { PartCache } from '../../src/keyset/part-cache.js'

describe('PartCache', () => {
  it('evicts the least recently used part past its count', () => {
    const cache = new PartCache<string>({ maxEntries: 2 })
    cache.set('a', 'A', 1)
    cache.set('b', 'B', 1)
    expect(cache.get('a')).toBe('A') // a is now the most recently used
    cache.set('c', 'C', 1)
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C'])
    expect(cache.size).toBe(2)
  })

  it('evicts the least recently used parts past its size, and keeps the byte count exact', () => {
    const cache = new PartCache<string>({ maxBytes: 100 })
    cache.set('a', 'A', 40)
    cache.set('b', 'B', 40)
    cache.set('c', 'C', 40)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.bytes).toBe(80)
    cache.set('b', 'B2', 10) // replacing counts the new size only
    expect(cache.bytes).toBe(50)
    expect(cache.get('b')).toBe('B2')
  })

  it('never keeps a part larger than its size bound', () => {
    const cache = new PartCache<string>({ maxBytes: 100 })
    cache.set('a', 'A', 50)
    cache.set('huge', 'H', 101)
    expect([cache.get('huge'), cache.get('a'), cache.bytes]).toEqual([undefined, 'A', 50])
  })

  it.each([[{ maxEntries: 0 }, /maxEntries/], [{ maxBytes: -1 }, /maxBytes/], [{ maxBytes: Number.NaN }, /maxBytes/]])('refuses %o', (options, message) => {
    expect(() => new PartCache(options)).toThrow(message)
  })
})
