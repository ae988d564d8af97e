import { expect } from 'vitest'
import { EdgeAuthError } from '../../src/errors.js'

/** Runs `fn` and returns the {@link EdgeAuthError} it threw; fails the test if it threw nothing else. */
export async function caught(fn: () => unknown): Promise<EdgeAuthError> {
  try {
    await fn()
  } catch (error) {
    expect(error).toBeInstanceOf(EdgeAuthError)
    return error as EdgeAuthError
  }
  throw new Error('expected an EdgeAuthError, nothing was thrown')
}
