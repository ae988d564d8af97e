/** What every route handler reaches through Hono's context. */
import type { Context } from 'hono'
import type { Principal, Scope } from './auth/principal.js'
import { isAllowed } from './auth/principal.js'
import type { EmulatorConfig } from './config.js'
import type { Tables } from './db/tables.js'
import { permissionsDenied } from './http/errors.js'
import type { SigningKeys } from './serverless/signing.js'

/** The emulator's state and settings, one per Durable Object instance. */
export interface Emulator {
  tables: Tables
  config: EmulatorConfig
  signingKeys: SigningKeys
  /** The admin secret, read from the bindings on every request. */
  adminSecret: () => string | undefined
  /** The clock (a seam for tests). */
  now: () => Date
}

/** Hono environment of the emulator app. */
export interface AppEnv {
  Variables: {
    emulator: Emulator
    /** Set by the authentication middleware on management routes. */
    principal: Principal
  }
}

/** A handler's context. */
export type AppContext = Context<AppEnv>

/**
 * Refuses (403) unless the caller holds one of `sets` on the scope.
 * @throws {ScalewayError} 403 `permissions_denied`.
 */
export function requireSets(c: AppContext, sets: readonly string[], scope: Scope, action: 'read' | 'write' | 'delete', resource: string): void {
  const { tables } = c.var.emulator
  if (!isAllowed(tables, c.var.principal, sets, scope)) throw permissionsDenied(action, resource)
}

/** The action a method performs, for `permissions_denied` details. */
export function actionOf(method: string): 'read' | 'write' | 'delete' {
  if (method === 'GET' || method === 'HEAD') return 'read'
  return method === 'DELETE' ? 'delete' : 'write'
}

/** A list answer: `{ <key>: items, total_count }`. */
export function listBody<T>(key: string, page: { items: T[]; total: number }): Record<string, unknown> {
  return { [key]: page.items, total_count: page.total }
}
