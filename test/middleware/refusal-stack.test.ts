import { HTTPException } from 'hono/http-exception'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { EdgeAuthError, INFRASTRUCTURE_CODES, withoutStackIf } from '../../src/errors.js'
import { refusal } from '../../src/middleware/edge-auth.js'

// A stack trace lists frames below its first line ("    at …"); a stackless error's stack is its first line alone.
const hasFrames = (error: Error) => /\n\s+at /.test(error.stack ?? '')

describe('stack traces of refusals and failures', () => {
  it.each(['api_key_unknown', 'permission_denied', 'route_not_found', 'credentials_missing'] as const)('a refusal (%s) carries no stack trace, and keeps its name, code and message', (code) => {
    const error = new EdgeAuthError(code, 'why')
    expect(hasFrames(error)).toBe(false)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('EdgeAuthError')
    expect(String(error)).toBe('EdgeAuthError: why')
    expect(error.code).toBe(code)
  })

  it.each([...INFRASTRUCTURE_CODES])('a failure (%s) keeps its stack trace', (code) => {
    expect(hasFrames(new EdgeAuthError(code, 'why'))).toBe(true)
  })

  it('the stack trace limit is restored after a refusal is built', () => {
    const before = Error.stackTraceLimit
    void new EdgeAuthError('token_invalid', 'x')
    withoutStackIf(true, () => new Error('x'))
    expect(Error.stackTraceLimit).toBe(before)
    expect(hasFrames(new Error('later'))).toBe(true)
  })

  it("the refusal's HTTPException has no stack for a 4xx, a stack for a 5xx, and the problem response either way", async () => {
    const app = new Hono()
    let refused: unknown
    let failed: unknown
    app.get('/', (c) => {
      refused = refusal(c, new EdgeAuthError('api_key_unknown', 'x'), 'r')
      failed = refusal(c, new EdgeAuthError('origin_unreachable', 'x'), 'r')
      return c.text('ok')
    })
    await app.request('/')
    expect(refused).toBeInstanceOf(HTTPException)
    expect(hasFrames(refused as Error)).toBe(false)
    expect((refused as HTTPException).res?.status).toBe(401)
    expect(hasFrames(failed as Error)).toBe(true)
    expect((failed as HTTPException).res?.status).toBe(502)
  })
})
