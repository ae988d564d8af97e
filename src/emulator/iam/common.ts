/** Helpers shared by the IAM routes. */
import { REQUIRED_SETS } from '../auth/permission-sets.js'
import { type AppContext, actionOf, requireSets } from '../context.js'
import { permissionsDenied } from '../http/errors.js'

/**
 * IAM calls act on the Organization: reads need IAMReadOnly or IAMManager,
 * writes IAMManager (or the owner).
 * @throws {ScalewayError} 403 `permissions_denied`.
 */
export function requireIam(c: AppContext, resource: string): void {
  const action = actionOf(c.req.method)
  requireSets(c, action === 'read' ? REQUIRED_SETS.iamRead : REQUIRED_SETS.iamWrite, { organizationId: c.var.emulator.config.organizationId }, action, resource)
}

/**
 * An Organization id given in a body must be the emulator's one Organization:
 * no caller holds rights in any other.
 * @throws {ScalewayError} 403 `permissions_denied` otherwise.
 */
export function organizationOf(c: AppContext, given: string | undefined, resource: string): string {
  const organizationId = c.var.emulator.config.organizationId
  if (given !== undefined && given.toLowerCase() !== organizationId) throw permissionsDenied('write', resource)
  return organizationId
}
