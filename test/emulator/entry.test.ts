import { expect, it } from 'vitest'
import * as entry from '../../src/emulator/worker.js'

// workerd refuses to start a Worker whose entry module exports anything but
// handlers and classes (wrangler dev fails with "Incorrect type for map entry").
it('exports only handlers and the Durable Object class from the Worker entry', () => {
  for (const [name, value] of Object.entries(entry)) {
    const isHandler = typeof value === 'object' && value !== null && 'fetch' in value
    expect(typeof value === 'function' || isHandler, `export ${name}`).toBe(true)
  }
  expect(Object.keys(entry).sort()).toEqual(['EmulatorStore', 'default'])
})
