/**
 * The admin API's log: one `audit` line per successful change, one `error`
 * line per unexpected failure. Lines are JSON objects; they never hold a
 * secret, a token, a header or a body.
 */
import type { Context } from 'hono'
import { requestIdOf } from '../middleware/edge-auth.js'

/** Who changed something: the `ADMIN_TOKEN` secret (named, never shown) or an IAM API key (its access key). */
export interface AuditActor {
  kind: 'admin-token' | 'api-key'
  id: string
}

/** Every change the admin API makes, as the `action` of its audit line. */
export type AuditAction =
  | 'sync.run'
  | 'api_key.mint'
  | 'api_key.register'
  | 'api_key.capture.delete'
  | 'api_key.rotate'
  | 'api_key.revoke'
  | 'legacy_token.mint'
  | 'legacy_namespace_key.register'
  | 'routes.replace'
  | 'route.create'
  | 'route.update'
  | 'route.delete'
  | 'consumer.create'
  | 'consumer.groups.replace'
  | 'consumer.delete'
  | 'jwt_credential.create'
  | 'jwt_credential.update'
  | 'jwt_credential.rotate'
  | 'jwt_credential.delete'
  | 'oidc_issuer.create'
  | 'oidc_issuer.update'
  | 'oidc_issuer.delete'
  | 'legacy_schedule.replace'
  | 'legacy_schedule.delete'

/** One audit line. */
export interface AuditLine {
  type: 'audit'
  actor: AuditActor
  action: AuditAction
  /** What was changed: an access key, a namespace, consumer, credential, route or issuer id, `routes`, `keyset`. */
  target: string
  /** Capture endpoints: whether something already captured was overwritten. */
  replaced?: boolean
  request_id: string
}

/** One line for an unexpected failure: the error's class only (its message may quote input), never a stack. */
export interface ErrorLine {
  type: 'error'
  request_id: string
  method: string
  path: string
  error: string
}

/** Where the admin API's lines go. */
export type AdminLog = (line: AuditLine | ErrorLine) => void

/** The default {@link AdminLog}: audit lines with `console.log`, errors with `console.error`, as JSON. */
export const consoleAdminLog: AdminLog = (line) => (line.type === 'error' ? console.error(JSON.stringify(line)) : console.log(JSON.stringify(line)))

/** Writes an audit line for the change this request made. */
export type Audit = (c: Context, action: AuditAction, target: string, extra?: { replaced?: boolean }) => void

/** The {@link Audit} of one admin app, over its log; the actor is the caller `adminAuth` admitted. */
export function auditTo(log: AdminLog): Audit {
  return (c, action, target, extra = {}) => {
    const actor = c.get('adminCaller') ?? { kind: 'admin-token', id: 'unknown' }
    log({ type: 'audit', actor, action, target, ...extra, request_id: requestIdOf(c) })
  }
}
