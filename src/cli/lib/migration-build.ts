/**
 * Building a migration plan from the live legacy tokens, their usage and the
 * gateway's routes: a pure function, no I/O (`edgegw migrate plan` gathers the
 * inputs). Tokens sharing a scope share an IAM application and its policy; each
 * token gets its own key (its owner's, revocable alone). docs/migration.md.
 */
import { PLAN_VERSION, type IdleToken, type Plan, type PlanGroup, type PlannedToken, type Probe, type Scope } from './migration-plan.js'

/** A live legacy token, its scope resolved (namespace, project, names). */
export interface LegacyTokenInfo {
  id: string
  product: 'functions' | 'containers'
  description: string
  /** RFC 3339, or null for a token that never expires. */
  expiresAt: string | null
  scope: Scope
}

/** What usage says of one token (`GET /usage?kind=legacy-jwt`). */
export interface TokenUsage {
  calls: number
  lastSeen: string | null
  routes: string[]
  userAgents: string[]
}

/** A gateway route, as far as the plan needs it. */
export interface RouteInfo {
  id: string
  paths: string[]
  methods?: string[]
  target: { kind: 'function' | 'container'; projectId: string; namespaceId?: string; resourceId?: string }
}

/** Inputs of {@link buildPlan}. */
export interface PlanInput {
  organizationId: string
  region: string
  tokens: readonly LegacyTokenInfo[]
  usage: ReadonlyMap<string, TokenUsage>
  routes: readonly RouteInfo[]
  /** Tokens with no use since this instant (ms since the epoch) are marked idle, for deletion. */
  idleSinceMs: number
  nowMs: number
}

/** Neighbours `verify` calls per group, at most: enough to show the condition holds, few enough to stay quick. */
const MAX_NEIGHBOURS = 3
const CI_USER_AGENT = /github|gitlab|jenkins|circleci|buildkite|drone|travis|teamcity|azure-pipelines|\bci\b/i

/** The IAM application's name for a scope (also how `apply` finds it again after a crash). */
export function applicationName(scope: Scope): string {
  return `legacy-${scope.kind}-${scope.resource_id ?? scope.namespace_id}`
}

/** The CEL condition that gives a key the token's reach, and no more. */
export function conditionFor(scope: Scope): string {
  return scope.kind === 'namespace' ? `resource.namespace_id == "${scope.namespace_id}"` : `resource.id == "${scope.resource_id}"`
}

/** Whether a route's target lies within a scope. */
export function covers(scope: Scope, target: RouteInfo['target']): boolean {
  if (target.kind !== (scope.product === 'functions' ? 'function' : 'container')) return false
  return scope.kind === 'namespace' ? target.namespaceId === scope.namespace_id : target.resourceId === scope.resource_id
}

function probe(route: RouteInfo): Probe {
  return { route: route.id, method: route.methods?.[0] ?? 'GET', path: route.paths[0]! }
}

/** Routes the keys of a scope must reach, and neighbours of the same kind they must not: in the same project first. */
export function probesFor(scope: Scope, routes: readonly RouteInfo[]): PlanGroup['verify'] {
  const kind = scope.product === 'functions' ? 'function' : 'container'
  const allowed = routes.filter((r) => covers(scope, r.target)).map(probe)
  const others = routes.filter((r) => r.target.kind === kind && !covers(scope, r.target))
  const sameProject = others.filter((r) => r.target.projectId === scope.project_id)
  const refused = (sameProject.length > 0 ? sameProject : others).slice(0, MAX_NEIGHBOURS).map(probe)
  return { allowed, refused }
}

/** `ci` for a token seen from a CI system's user agent, else `service`: legacy tokens are machine credentials. */
export function keyKindFor(userAgents: readonly string[]): PlannedToken['key_kind'] {
  return userAgents.some((ua) => CI_USER_AGENT.test(ua)) ? 'ci' : 'service'
}

function scopeKey(scope: Scope): string {
  return `${scope.kind}:${scope.resource_id ?? scope.namespace_id}`
}

/**
 * The plan: idle and expired tokens listed for deletion; the others grouped by
 * scope, each group with its application, policy rule (the invoke permission set on
 * the project, under a `resource.*` condition) and one key per token.
 * @example
 * ```ts
 * const plan = buildPlan({ organizationId, region: 'fr-par', tokens, usage, routes, idleSinceMs: now - 30 * 86_400_000, nowMs: now })
 * ```
 */
export function buildPlan(input: PlanInput): Plan {
  const groups = new Map<string, PlanGroup>()
  const idle: IdleToken[] = []
  const tokens = [...input.tokens].sort((a, b) => a.id.localeCompare(b.id))
  for (const token of tokens) {
    const used = input.usage.get(token.id)
    const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= input.nowMs
    const lastSeenMs = used?.lastSeen ? Date.parse(used.lastSeen) : undefined
    if (expired || lastSeenMs === undefined || lastSeenMs < input.idleSinceMs) {
      idle.push({ token_id: token.id, product: token.product, description: token.description, scope_label: token.scope.label, last_seen: used?.lastSeen ?? null, reason: expired ? 'expired' : 'idle' })
      continue
    }
    const key = scopeKey(token.scope)
    let group = groups.get(key)
    if (!group) {
      const name = applicationName(token.scope)
      group = {
        scope: token.scope,
        application: { name, id: null },
        policy: {
          name: `${name}-policy`,
          id: null,
          rule: {
            permission_set_names: [token.product === 'functions' ? 'FunctionsPrivateAccess' : 'ContainersPrivateAccess'],
            project_ids: [token.scope.project_id],
            condition: conditionFor(token.scope),
          },
        },
        tokens: [],
        verify: probesFor(token.scope, input.routes),
      }
      groups.set(key, group)
    }
    group.tokens.push({
      token_id: token.id,
      description: token.description,
      calls: used!.calls,
      last_seen: used!.lastSeen,
      owner: { user_agents: [...used!.userAgents], routes: [...used!.routes] },
      key_kind: keyKindFor(used!.userAgents),
      key: null,
    })
  }
  return {
    version: PLAN_VERSION,
    generated_at: new Date(input.nowMs).toISOString(),
    organization_id: input.organizationId,
    region: input.region,
    idle_since: new Date(input.idleSinceMs).toISOString(),
    groups: [...groups.values()].sort((a, b) => a.application.name.localeCompare(b.application.name)),
    idle,
  }
}
