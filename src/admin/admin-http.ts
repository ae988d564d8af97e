/**
 * What every admin endpoint shares: the error it throws, body and path-id
 * parsing, and the `application/problem+json` (RFC 9457) response it answers with.
 */
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import * as v from 'valibot'
import { requestIdOf } from '../middleware/edge-auth.js'
import { problemJson } from '../http/problem-json.js'

/** Statuses the admin API answers errors with. */
export type AdminErrorStatus = 400 | 403 | 404 | 409 | 412 | 413 | 415 | 500 | 502 | 503

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

/** The largest body an admin endpoint reads, in bytes (64 KiB), unless it says otherwise. */
export const ADMIN_BODY_MAX_BYTES = 64 * 1024

/** Options of {@link parseBody}. */
export interface ParseBodyOptions {
  /** Bytes of body read at most; a larger body is 413 `body_too_large`. Default {@link ADMIN_BODY_MAX_BYTES}. */
  maxBytes?: number
}

/**
 * Reads a JSON body, at most `maxBytes` of it (hono's `bodyLimit`: the
 * `Content-Length` when there is one, the bytes as they stream otherwise), and
 * checks it against `schema`, whose objects should be strict
 * (`v.strictObject`): an unknown field is then refused by name.
 * @throws {AdminError} 415 `unsupported_media_type` when it is not JSON; 413
 *   `body_too_large`; 400 `invalid_body` naming each field at fault.
 */
export async function parseBody<S extends v.GenericSchema>(c: Context, schema: S, options: ParseBodyOptions = {}): Promise<v.InferOutput<S>> {
  if (!(c.req.header('content-type') ?? '').includes('application/json')) throw new AdminError(415, 'unsupported_media_type', 'send application/json')
  const maxBytes = options.maxBytes ?? ADMIN_BODY_MAX_BYTES
  await bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AdminError(413, 'body_too_large', `the body is larger than ${maxBytes} bytes`)
    },
  })(c, async () => undefined)
  let json: unknown
  try {
    json = await c.req.json()
  } catch {
    throw new AdminError(400, 'invalid_body', 'the body is not valid JSON')
  }
  // Every admin body is an object; valibot's object schemas would take an array as one.
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AdminError(400, 'invalid_body', 'body: expected a JSON object')
  const parsed = v.safeParse(schema, json)
  if (!parsed.success) throw new AdminError(400, 'invalid_body', describeIssues(parsed.issues))
  return parsed.output
}

const OBJECT_TYPES = new Set(['object', 'strict_object', 'loose_object', 'object_with_rest'])

/**
 * Issues as `field: what is wrong`, one formatter for every admin body:
 * `unknown field`, `required`, the schema's own message (written without the
 * field's name and without the value), or the expectation. Valibot's default
 * messages end with the received value, which may be a secret: they are never used.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const field = v.getDotPath(issue)
      if (field === null) return `body: ${issue.kind === 'schema' && OBJECT_TYPES.has(issue.type) ? 'expected a JSON object' : ownMessage(issue) ?? 'invalid value'}`
      if (issue.kind === 'schema' && OBJECT_TYPES.has(issue.type)) {
        if (issue.expected === 'never') return `${field}: unknown field`
        if (issue.input === undefined && /^".*"$/.test(issue.expected ?? '')) return `${field}: required`
      }
      return `${field}: ${ownMessage(issue) ?? (issue.expected ? `expected ${issue.expected}` : 'invalid value')}`
    })
    .join('; ')
}

/** A message written in a schema (valibot's own start with "Invalid "). */
function ownMessage(issue: v.BaseIssue<unknown>): string | undefined {
  return issue.message.startsWith('Invalid ') ? undefined : issue.message
}

/**
 * A path parameter checked against its resource's rule.
 * @param what The resource, as the message names it (`consumer`, `access key`).
 * @throws {AdminError} 400 `invalid_id` with `what: rule`.
 */
export function pathId(c: Context, name: string, what: string, rule: { test: (value: string) => boolean; description: string }): string {
  const value = c.req.param(name) ?? ''
  if (!rule.test(value)) throw new AdminError(400, 'invalid_id', `${what}: ${rule.description}`)
  return value
}

/** An `application/problem+json` response (RFC 9457) with the request id, never cached. */
export function problem(c: Context, status: number, code: string, detail: string): Response {
  return problemJson({ status, code, title: code, detail, requestId: requestIdOf(c) })
}

/** The current time as RFC 3339. */
export const isoNow = (clock?: () => number): string => new Date((clock ?? Date.now)()).toISOString()
