/**
 * What every admin endpoint shares: the error it throws, body parsing, and the
 * `application/problem+json` (RFC 9457) response it answers with.
 */
import type { Context } from 'hono'
import * as v from 'valibot'

/** Statuses the admin API answers errors with. */
export type AdminErrorStatus = 400 | 404 | 409 | 415 | 503

/**
 * A refused admin request: `code` is stable (clients switch on it), `message`
 * names the field at fault and never contains a secret the caller sent.
 */
export class AdminError extends Error {
  override readonly name = 'AdminError'
  constructor(
    readonly status: AdminErrorStatus,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Reads a JSON body and checks it against `schema`.
 * @throws {AdminError} 415 `unsupported_media_type` when it is not JSON; 400 `invalid_body` naming each field at fault.
 */
export async function parseBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  if (!(c.req.header('content-type') ?? '').includes('application/json')) throw new AdminError(415, 'unsupported_media_type', 'send application/json')
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    throw new AdminError(400, 'invalid_body', 'the body is not valid JSON')
  }
  const parsed = v.safeParse(schema, json)
  if (!parsed.success) throw new AdminError(400, 'invalid_body', describeIssues(parsed.issues))
  return parsed.output
}

/**
 * Issues as `field: expectation`. Valibot's own messages end with the received
 * value, which may be a secret: they are replaced by the expectation; messages
 * written in the schemas (which never quote the value) are kept.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const field = v.getDotPath(issue) ?? 'body'
      if (issue.type === 'strict_object') return `${field}: unknown field`
      const ownMessage = !issue.message.startsWith('Invalid ')
      return `${field}: ${ownMessage ? issue.message : issue.expected ? `expected ${issue.expected}` : 'invalid value'}`
    })
    .join('; ')
}

/** An `application/problem+json` response (RFC 9457), never cached. */
export function problem(status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `urn:edge-auth-gateway:problem:${code}`, title: code, status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  })
}

/** The current time as RFC 3339. */
export const isoNow = (clock?: () => number): string => new Date((clock ?? Date.now)()).toISOString()
