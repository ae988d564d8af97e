import { describe, expect, it } from 'vitest'
import { BoundedMap } from '../../src/util/bounded-map.js'

describe('BoundedMap', () => {
  it('forgets the least recently used beyond maxEntries', () => {
    const map = new BoundedMap<string, number>(2)
    map.set('a', 1)
    map.set('b', 2)
    expect(map.get('a')).toBe(1)
    map.set('c', 3)
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([1, undefined, 3, 2])
  })

  it('setting a held key refreshes it without growing', () => {
    const map = new BoundedMap<string, number>(2)
    map.set('a', 1)
    map.set('b', 2)
    expect(map.set('a', 10)).toBe(10)
    map.set('c', 3)
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([10, undefined, 3, 2])
  })

  it('holds falsy values and forgets on delete and clear', () => {
    const map = new BoundedMap<string, number | null>(3)
    map.set('zero', 0)
    map.set('null', null)
    expect([map.get('zero'), map.get('null'), map.get('none')]).toEqual([0, null, undefined])
    expect(map.delete('zero')).toBe(true)
    expect(map.delete('zero')).toBe(false)
    map.clear()
    expect(map.size).toBe(0)
  })

  it.each([0, -1, Number.NaN])('refuses maxEntries %s', (maxEntries) => {
    expect(() => new BoundedMap(maxEntries)).toThrow(TypeError)
  })
})
