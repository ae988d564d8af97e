/**
 * Who uses what, at the admin API: `GET /usage` (per credential: owner, calls,
 * first and last seen, routes, a few user agents) and `GET /usage/summary` (the
 * figures of `edgegw migrate status`). Both first flush the counts this isolate
 * holds. docs/migration.md, "Who uses what"; docs/admin-api.md, "Usage".
 */
import type { Context, Hono } from 'hono'
import { currentOrNextBrownout, legacyCreationOpen, nextLegacyRefusalAt } from '../authz/legacy-policy.js'
import type { UsageTotals } from '../usage/ledger-queries.js'
import { USAGE_KINDS, utcDay } from '../usage/usage-batch.js'
import type { AdminDependencies, AdminUsage } from './admin-api.js'
import { AdminError } from './admin-http.js'
import { effectiveSchedule, scheduleJson } from './legacy-schedule-api.js'

const DAY_MS = 86_400_000
/** The longest `since` in days (the ledger keeps `USAGE_RETENTION_DAYS`, 90 by default). */
const MAX_SINCE_DAYS = 400
/** Legacy tokens listed per window of the summary at most. */
const SUMMARY_TOKENS_LISTED = 1000

type Kind = (typeof USAGE_KINDS)[number]
type PendingFlush = 'flushed' | 'failed' | 'none'

/** Adds the usage endpoints to the admin app. */
export function usageRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies): void {
  app.get('/usage', async (c) => {
    const deps = dependencies(c)
    const usage = configured(deps)
    const now = (deps.clock ?? Date.now)()
    const query = usageQuery(c, now)
    const pending = await flushPending(usage)
    const report = await fromLedger(() => usage.ledger.report({ ...query, untilDay: utcDay(now) }))
    return c.json({
      since: query.sinceDay,
      until: utcDay(now),
      credentials: report.credentials.map((u) => ({
        kind: u.kind,
        credential_id: u.credentialId,
        principal: u.principal,
        namespace_id: u.namespaceId,
        calls: u.calls,
        first_seen: iso(u.firstSeenMs),
        last_seen: iso(u.lastSeenMs),
        routes: u.routes.map((r) => ({ route: r.routeId, calls: r.calls })),
        user_agents: u.userAgents,
      })),
      truncated: report.truncated,
      dropped_calls: report.droppedCalls,
      pending_flush: pending,
    })
  })

  app.get('/usage/summary', async (c) => {
    const deps = dependencies(c)
    const usage = configured(deps)
    const now = (deps.clock ?? Date.now)()
    const pending = await flushPending(usage)
    const totals = (days: number) => fromLedger(() => usage.ledger.totals({ sinceDay: utcDay(now - days * DAY_MS), activeSinceMs: now - days * DAY_MS, listKind: 'legacy-jwt', listLimit: SUMMARY_TOKENS_LISTED }))
    const [day, week, schedule] = await Promise.all([totals(1), totals(7), effectiveSchedule(deps)])
    const brownout = currentOrNextBrownout(schedule.policy, now)
    const nextRefusal = nextLegacyRefusalAt(schedule.policy, now)
    return c.json({
      generated_at: iso(now),
      last_day: windowJson(day, now - DAY_MS),
      last_week: windowJson(week, now - 7 * DAY_MS),
      schedule: { source: schedule.source, ...scheduleJson(schedule.policy) },
      brownout_now: brownout !== undefined && Date.parse(brownout.start) <= now ? brownout : null,
      next_brownout: brownout !== undefined && Date.parse(brownout.start) > now ? brownout : null,
      next_refusal_at: nextRefusal === undefined ? null : iso(nextRefusal),
      legacy_creation_open: legacyCreationOpen(schedule.policy, now),
      pending_flush: pending,
    })
  })
}

/** One window of the summary: calls from the UTC day of `sinceMs`, credentials seen since `sinceMs` itself. */
function windowJson(totals: UsageTotals, sinceMs: number) {
  const calls = Object.values(totals.byKind).reduce((sum, k) => sum + k.calls, 0)
  const legacy = totals.byKind['legacy-jwt']
  return {
    since: iso(sinceMs),
    calls_since_day: utcDay(sinceMs),
    calls,
    legacy_calls: legacy?.calls ?? 0,
    legacy_share: calls === 0 ? 0 : (legacy?.calls ?? 0) / calls,
    by_kind: Object.fromEntries(Object.entries(totals.byKind).map(([kind, k]) => [kind, { calls: k.calls, credentials: k.activeCredentials }])),
    legacy_tokens_used: legacy?.activeCredentials ?? 0,
    legacy_tokens: totals.listed.map((t) => ({ credential_id: t.credentialId, namespace_id: t.namespaceId, calls: t.calls, last_seen: iso(t.lastSeenMs) })),
    legacy_tokens_truncated: totals.listedTruncated,
    dropped_calls: totals.droppedCalls,
  }
}

function configured(deps: AdminDependencies): AdminUsage {
  if (!deps.usage) throw new AdminError(503, 'not_configured', 'usage counting is off: the USAGE Durable Object binding is not configured (wrangler.toml)')
  return deps.usage
}

/** This isolate's counts, into the ledger before it is read; a failure is reported, not fatal (the ledger may still answer). */
async function flushPending(usage: AdminUsage): Promise<PendingFlush> {
  try {
    return (await usage.flushPending()) ? 'flushed' : 'none'
  } catch {
    return 'failed'
  }
}

async function fromLedger<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch {
    throw new AdminError(503, 'usage_unavailable', 'the usage ledger (USAGE Durable Object) cannot be read now; try again')
  }
}

/** `?kind=&since=&credential=&limit=` of `GET /usage`. @throws {AdminError} 400 `invalid_query`. */
function usageQuery(c: Context, now: number): { sinceDay: string; kind: Kind | undefined; credentialId: string | undefined; limit: number } {
  const kind = c.req.query('kind')
  if (kind !== undefined && !(USAGE_KINDS as readonly string[]).includes(kind)) throw new AdminError(400, 'invalid_query', `kind: expected one of ${USAGE_KINDS.join(', ')}`)
  const since = c.req.query('since') ?? '7d'
  let sinceDay: string
  const days = /^(\d{1,3})d$/.exec(since)
  if (days) {
    const n = Number(days[1])
    if (n < 1 || n > MAX_SINCE_DAYS) throw new AdminError(400, 'invalid_query', `since: expected 1d to ${MAX_SINCE_DAYS}d`)
    // `1d` is today (UTC); `7d` today and the six days before.
    sinceDay = utcDay(now - (n - 1) * DAY_MS)
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(since) && !Number.isNaN(Date.parse(`${since}T00:00:00Z`))) {
    sinceDay = since
  } else {
    throw new AdminError(400, 'invalid_query', 'since: expected a number of days (7d) or a UTC day (2026-04-01)')
  }
  const credentialId = c.req.query('credential')
  if (credentialId !== undefined && !/^[^\p{Cc}]{1,256}$/u.test(credentialId)) throw new AdminError(400, 'invalid_query', 'credential: 1–256 characters without control characters')
  const limitText = c.req.query('limit') ?? '100'
  const limit = Number(limitText)
  if (!/^\d{1,4}$/.test(limitText) || limit < 1 || limit > 1000) throw new AdminError(400, 'invalid_query', 'limit: expected 1 to 1000')
  return { sinceDay, kind: kind as Kind | undefined, credentialId, limit }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
