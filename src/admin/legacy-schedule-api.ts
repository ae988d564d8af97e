/**
 * The legacy-token schedule at the admin API: `GET`, `PUT`, `DELETE
 * /legacy-schedule`. The schedule is stored in the registry, carried into the key
 * set by the sync and read from there by the gateway, so it changes without a
 * redeploy; the `LEGACY_*` vars are the fallback while none is set.
 * docs/migration.md, "The schedule".
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { effectiveLegacyPolicy, legacyCreationOpen, type LegacyTokenPolicy } from '../authz/legacy-policy.js'
import { canonicalJson } from '../keyset/canonical-json.js'
import { KvKeySetStore } from '../keyset/kv-store.js'
import { MAX_BROWNOUTS, type LegacySchedule } from '../keyset/legacy-schedule-schema.js'
import { deleteLegacySchedule, readLegacySchedule, saveLegacySchedule, type StoredLegacySchedule } from '../sync/legacy-schedule-registry.js'
import type { AdminDependencies } from './admin-api.js'
import { AdminError, isoNow, parseBody } from './admin-http.js'
import type { Audit } from './audit-log.js'
import { keySetChanged } from './key-set-change.js'

const TIME = 'expected an RFC 3339 time'
const Time = v.pipe(v.string(TIME), v.isoTimestamp(TIME), v.transform((t) => new Date(t).toISOString()))
const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t))

/** The body of `PUT /legacy-schedule`: the whole schedule. */
export const ScheduleBody = v.pipe(
  v.strictObject({
    deprecated_at: v.optional(Time),
    sunset_at: v.optional(Time),
    brownouts: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.strictObject({ start: Time, end: Time }),
            v.check((w) => ms(w.start)! < ms(w.end)!, 'a brownout must end after it starts'),
          ),
          'expected an array of { "start", "end" } windows',
        ),
        v.maxLength(MAX_BROWNOUTS, `at most ${MAX_BROWNOUTS} brownouts`),
      ),
      [],
    ),
    creation_cutoff_at: v.optional(Time),
    migration_guide_url: v.optional(v.pipe(v.string('expected an https:// URL'), v.url('expected an https:// URL'), v.startsWith('https://', 'expected an https:// URL'))),
  }),
  v.check((b) => !b.deprecated_at || !b.sunset_at || ms(b.deprecated_at)! <= ms(b.sunset_at)!, 'sunset_at must not come before deprecated_at'),
  v.check((b) => !b.creation_cutoff_at || !b.sunset_at || ms(b.creation_cutoff_at)! <= ms(b.sunset_at)!, 'creation_cutoff_at must not come after sunset_at'),
)

/** A schedule on the wire (snake_case, `null` for what is not set). */
export function scheduleJson(schedule: LegacyTokenPolicy) {
  return {
    deprecated_at: schedule.deprecatedAt ?? null,
    sunset_at: schedule.sunsetAt ?? null,
    brownouts: schedule.brownouts.map((w) => ({ start: w.start, end: w.end })),
    creation_cutoff_at: schedule.creationCutoffAt ?? null,
    migration_guide_url: schedule.migrationGuideUrl ?? null,
  }
}

/** The schedule in force for the admin API: the registry's, else the `LEGACY_*` vars'. */
export async function effectiveSchedule(deps: AdminDependencies): Promise<{ policy: LegacyTokenPolicy; source: 'registry' | 'settings' | 'none'; stored: StoredLegacySchedule | undefined }> {
  const stored = await readLegacySchedule(deps.kv)
  const fallback = deps.legacyTokens ?? { brownouts: [] }
  const policy = effectiveLegacyPolicy(stored?.schedule, fallback)
  const source = stored ? 'registry' : canonicalJson(scheduleJson(fallback)) === canonicalJson(scheduleJson({ brownouts: [] })) ? 'none' : 'settings'
  return { policy, source, stored }
}

/**
 * Refuses to mint a legacy token from the schedule's creation cut-off (or its sunset) on.
 * @throws {AdminError} 403 `legacy_creation_closed`.
 */
export async function assertLegacyCreationOpen(deps: AdminDependencies): Promise<void> {
  const { policy } = await effectiveSchedule(deps)
  if (legacyCreationOpen(policy, (deps.clock ?? Date.now)())) return
  const closedAt = policy.creationCutoffAt ?? policy.sunsetAt
  throw new AdminError(403, 'legacy_creation_closed', `legacy tokens can no longer be created (closed at ${closedAt}); create an IAM API key instead (POST /api-keys)`)
}

/** Adds the schedule endpoints to the admin app. */
export function legacyScheduleRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  /** The schedule reaches the key set with the next sync: start one now, in the background. */
  /** Every change is synced, and served by this isolate, before it answers (docs/revocation.md). */
  const changed = (c: Context) => keySetChanged(c, dependencies(c))

  app.get('/legacy-schedule', async (c) => c.json(await describe(dependencies(c))))

  app.put('/legacy-schedule', async (c) => {
    const body = await parseBody(c, ScheduleBody)
    const deps = dependencies(c)
    const schedule: LegacySchedule = {
      ...(body.deprecated_at ? { deprecatedAt: body.deprecated_at } : {}),
      ...(body.sunset_at ? { sunsetAt: body.sunset_at } : {}),
      ...(body.migration_guide_url ? { migrationGuideUrl: body.migration_guide_url } : {}),
      brownouts: [...body.brownouts].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)),
      ...(body.creation_cutoff_at ? { creationCutoffAt: body.creation_cutoff_at } : {}),
    }
    await saveLegacySchedule(deps.kv, schedule, isoNow(deps.clock))
    audit(c, 'legacy_schedule.replace', 'legacy-schedule')
    await changed(c)
    return c.json({ ...(await describe(deps)), note: 'The gateway applies the schedule after the sync that has just been started.' })
  })

  app.delete('/legacy-schedule', async (c) => {
    const deps = dependencies(c)
    if (!(await deleteLegacySchedule(deps.kv))) throw new AdminError(404, 'legacy_schedule_not_found', 'no schedule is set: the LEGACY_* vars apply')
    audit(c, 'legacy_schedule.delete', 'legacy-schedule')
    await changed(c)
    return c.body(null, 204)
  })
}

/** What `GET /legacy-schedule` answers. */
async function describe(deps: AdminDependencies) {
  const { policy, source, stored } = await effectiveSchedule(deps)
  const now = (deps.clock ?? Date.now)()
  return {
    source,
    schedule: scheduleJson(policy),
    updated_at: stored?.updatedAt ?? null,
    settings: scheduleJson(deps.legacyTokens ?? { brownouts: [] }),
    legacy_creation_open: legacyCreationOpen(policy, now),
    in_key_set: await inKeySet(deps, stored?.schedule),
  }
}

/** Whether the key set the gateway reads carries this registry schedule (or none, when none is set); `null` when it cannot be read. */
async function inKeySet(deps: AdminDependencies, schedule: LegacySchedule | undefined): Promise<boolean | null> {
  try {
    const view = await new KvKeySetStore(deps.kv).current({ waitUntil: () => undefined })
    return canonicalJson(view.legacySchedule ?? null) === canonicalJson(schedule ?? null)
  } catch {
    return null
  }
}
