import type { Grant, Target } from '../keyset/schema.js'

/** The permission set that lets a principal invoke a private resource of this kind. */
export function invokePermissionSet(kind: Target['kind']): 'FunctionsPrivateAccess' | 'ContainersPrivateAccess' {
  return kind === 'function' ? 'FunctionsPrivateAccess' : 'ContainersPrivateAccess'
}

/** Permission sets that also allow invoking when `fullAccessAllowsInvoke` is on. */
function fullAccessSets(kind: Target['kind']): readonly string[] {
  return kind === 'function' ? ['FunctionsFullAccess', 'AllProductsFullAccess'] : ['ContainersFullAccess', 'AllProductsFullAccess']
}

/** What a grant is checked against. */
export interface GrantQuery {
  target: Target
  /** The organisation owning the target's project, if known. */
  organizationId: string | undefined
  /** Count `*FullAccess` permission sets as allowing invocation. */
  fullAccessAllowsInvoke: boolean
}

/**
 * Does one grant (a compiled IAM rule) allow invoking the target? Its permission
 * sets must include the invoke set, on the target's project or organisation.
 * A grant with a condition never allows here: conditions are evaluated by the
 * CEL evaluator, and a condition that is not evaluated must fail closed.
 */
export function grantAllows(grant: Grant, query: GrantQuery): boolean {
  if (grant.condition !== undefined) return false
  const required = invokePermissionSet(query.target.kind)
  const sets = grant.permissionSets
  const setMatches = sets.includes(required) || (query.fullAccessAllowsInvoke && fullAccessSets(query.target.kind).some((s) => sets.includes(s)))
  if (!setMatches) return false
  if (grant.scope.type === 'projects') return grant.scope.projectIds.includes(query.target.projectId)
  return query.organizationId !== undefined && grant.scope.organizationId === query.organizationId
}

/** Rules are OR-ed, as in IAM: one allowing grant is enough. */
export function anyGrantAllows(grants: readonly Grant[], query: GrantQuery): boolean {
  return grants.some((grant) => grantAllows(grant, query))
}
