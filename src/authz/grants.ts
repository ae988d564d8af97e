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
 * Does one grant (a compiled IAM rule) cover invoking the target, its condition
 * aside? Its permission sets must include the invoke set, on the target's project
 * or organisation.
 */
export function grantCovers(grant: Grant, query: GrantQuery): boolean {
  const required = invokePermissionSet(query.target.kind)
  const sets = grant.permissionSets
  const setMatches = sets.includes(required) || (query.fullAccessAllowsInvoke && fullAccessSets(query.target.kind).some((s) => sets.includes(s)))
  if (!setMatches) return false
  if (grant.scope.type === 'projects') return grant.scope.projectIds.includes(query.target.projectId)
  return query.organizationId !== undefined && grant.scope.organizationId === query.organizationId
}

/**
 * Does one grant allow invoking the target without a condition? A grant with a
 * condition never allows here: its condition is evaluated per request (see
 * {@link grantsFor}), and one that is not evaluated must fail closed.
 */
export function grantAllows(grant: Grant, query: GrantQuery): boolean {
  return grant.condition === undefined && grantCovers(grant, query)
}

/** Rules are OR-ed, as in IAM: one allowing grant is enough. */
export function anyGrantAllows(grants: readonly Grant[], query: GrantQuery): boolean {
  return grants.some((grant) => grantAllows(grant, query))
}

/** What a principal's grants say of one target, before the request's conditions are evaluated. */
export type GrantDecision =
  /** One grant without a condition covers the target. */
  | { kind: 'allowed' }
  /** Only conditional grants cover it: the request is allowed if one of these conditions holds. */
  | { kind: 'conditional'; conditions: string[] }
  /** No grant covers it. */
  | { kind: 'denied' }

/** Rules are OR-ed: an unconditional covering grant allows; otherwise any covering grant's condition may. */
export function grantsFor(grants: readonly Grant[], query: GrantQuery): GrantDecision {
  const conditions: string[] = []
  for (const grant of grants) {
    if (!grantCovers(grant, query)) continue
    if (grant.condition === undefined) return { kind: 'allowed' }
    if (!conditions.includes(grant.condition)) conditions.push(grant.condition)
  }
  return conditions.length > 0 ? { kind: 'conditional', conditions } : { kind: 'denied' }
}
