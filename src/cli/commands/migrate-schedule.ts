/**
 * `edgegw migrate schedule` (the legacy schedule in the key set: deprecation,
 * brownouts, sunset, creation cut-off; it changes without a redeploy) and
 * `edgegw migrate status` (tokens still used, the legacy share, the next brownout).
 */
import type { Command } from 'commander'
import { contextOf } from '../lib/context.js'
import { formatRelative } from '../lib/duration.js'
import { UsageError } from '../lib/errors.js'
import { parseInstant, parseWindow } from '../lib/instant.js'
import { collect, examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncNow } from '../lib/sync.js'

/** A schedule on the wire. */
export interface ScheduleJson {
  deprecated_at: string | null
  sunset_at: string | null
  brownouts: { start: string; end: string }[]
  creation_cutoff_at: string | null
  migration_guide_url: string | null
}

interface SummaryWindow {
  since: string
  calls: number
  legacy_calls: number
  legacy_share: number
  legacy_tokens_used: number
  legacy_tokens: { credential_id: string; namespace_id: string | null; calls: number; last_seen: string }[]
}

/** `GET /usage/summary`. */
export interface SummaryJson {
  last_day: SummaryWindow
  last_week: SummaryWindow
  schedule: ScheduleJson & { source: string }
  brownout_now: { start: string; end: string } | null
  next_brownout: { start: string; end: string } | null
  next_refusal_at: string | null
  legacy_creation_open: boolean
  pending_flush: string
}

const iso = (ms: number) => new Date(ms).toISOString()
const when = (at: string | null, now: number) => (at ? `${at} (${formatRelative(at, now)})` : 'not set')

/** Registers `migrate schedule` and `migrate status`. */
export function registerMigrateSchedule(migrate: Command, io: Io): void {
  migrate
    .command('schedule')
    .description('Set the legacy schedule in the key set (no redeploy): deprecation, brownouts, sunset, creation cut-off; it replaces the schedule set before')
    .option('--deprecate-at <time>', 'from then on, legacy calls carry Deprecation')
    .option('--brownout <start/end>', 'a window in which legacy tokens are refused, <start>/<end> or <start>/<duration> (repeatable)', collect)
    .option('--sunset-at <time>', 'from then on, legacy tokens are refused for good')
    .option('--creation-cutoff-at <time>', 'from then on, legacy tokens can no longer be created')
    .option('--guide-url <url>', 'the migration guide (https), in Link: <…>; rel="deprecation"')
    .option('--clear', 'remove the schedule (the LEGACY_* vars apply again)')
    .addHelpText(
      'after',
      examples(
        'edgegw migrate schedule --deprecate-at 2026-12-01T00:00:00Z --brownout 2026-12-10T09:00:00Z/1h --brownout 2026-12-17T09:00:00Z/4h --sunset-at 2027-01-15T00:00:00Z --creation-cutoff-at 2026-12-01T00:00:00Z',
        'edgegw migrate schedule --clear',
      ),
    )
    .action(async (options: { deprecateAt?: string; brownout?: string[]; sunsetAt?: string; creationCutoffAt?: string; guideUrl?: string; clear?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      if (options.clear) {
        if (options.deprecateAt || options.brownout || options.sunsetAt || options.creationCutoffAt || options.guideUrl) throw new UsageError('--clear: takes no other option')
        await ctx.client.call('DELETE', '/legacy-schedule')
        await syncNow(ctx)
        if (ctx.out.json) return ctx.out.writeJson({ cleared: true })
        return ctx.out.write('The legacy schedule is removed: the LEGACY_* vars apply again.')
      }
      const body = {
        ...(options.deprecateAt ? { deprecated_at: iso(parseInstant(options.deprecateAt, '--deprecate-at')) } : {}),
        ...(options.sunsetAt ? { sunset_at: iso(parseInstant(options.sunsetAt, '--sunset-at')) } : {}),
        brownouts: (options.brownout ?? []).map((w) => parseWindow(w, '--brownout')),
        ...(options.creationCutoffAt ? { creation_cutoff_at: iso(parseInstant(options.creationCutoffAt, '--creation-cutoff-at')) } : {}),
        ...(options.guideUrl ? { migration_guide_url: options.guideUrl } : {}),
      }
      if (Object.keys(body).length === 1 && body.brownouts.length === 0) throw new UsageError('nothing to schedule: pass --deprecate-at, --brownout, --sunset-at or --creation-cutoff-at (or --clear)')
      await ctx.client.call('PUT', '/legacy-schedule', { body })
      await syncNow(ctx)
      const { body: now } = await ctx.client.call<{ schedule: ScheduleJson; in_key_set: boolean | null; legacy_creation_open: boolean }>('GET', '/legacy-schedule')
      if (ctx.out.json) return ctx.out.writeJson(now)
      const t = io.now()
      ctx.out.fields([
        ['deprecated at', when(now.schedule.deprecated_at, t)],
        ['brownouts', now.schedule.brownouts.map((w) => `${w.start}/${w.end}`).join(', ') || 'none'],
        ['sunset at', when(now.schedule.sunset_at, t)],
        ['creation cut-off', when(now.schedule.creation_cutoff_at, t)],
        ['creation open', now.legacy_creation_open],
        ['in the key set', now.in_key_set === null ? 'unknown' : now.in_key_set],
      ])
      ctx.out.note('Every isolate applies it within KEYSET_MEMORY_TTL_SECONDS (no redeploy).')
    })

  migrate
    .command('status')
    .description('Where the move stands: legacy tokens used in the last day and week, the legacy share of calls, the next brownout and refusal')
    .addHelpText('after', examples('edgegw migrate status', "edgegw migrate status --json | jq '.last_week.legacy_tokens'"))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<SummaryJson>('GET', '/usage/summary')
      if (ctx.out.json) return ctx.out.writeJson(body)
      const t = io.now()
      const pct = (share: number) => `${(share * 100).toFixed(1)}%`
      const window = (w: { start: string; end: string } | null) => (w ? `${w.start} → ${w.end} (${formatRelative(w.start, t)})` : 'none')
      ctx.out.fields([
        ['legacy tokens used, last day', body.last_day.legacy_tokens_used],
        ['legacy tokens used, last week', body.last_week.legacy_tokens_used],
        ['legacy share of calls, last day', `${pct(body.last_day.legacy_share)} (${body.last_day.legacy_calls} of ${body.last_day.calls})`],
        ['legacy share of calls, last week', `${pct(body.last_week.legacy_share)} (${body.last_week.legacy_calls} of ${body.last_week.calls})`],
        ['brownout now', body.brownout_now ? window(body.brownout_now) : 'no'],
        ['next brownout', window(body.next_brownout)],
        ['next refusal', when(body.next_refusal_at, t)],
        ['sunset at', when(body.schedule.sunset_at, t)],
        ['legacy creation open', body.legacy_creation_open],
      ])
      if (body.last_week.legacy_tokens.length > 0) {
        ctx.out.write('')
        ctx.out.table(
          [
            { header: 'TOKEN', value: (r: SummaryWindow['legacy_tokens'][number]) => r.credential_id },
            { header: 'NAMESPACE', value: (r: SummaryWindow['legacy_tokens'][number]) => r.namespace_id },
            { header: 'CALLS (WEEK)', value: (r: SummaryWindow['legacy_tokens'][number]) => r.calls },
            { header: 'LAST SEEN', value: (r: SummaryWindow['legacy_tokens'][number]) => formatRelative(r.last_seen, t) },
          ],
          body.last_week.legacy_tokens,
          '',
        )
        ctx.out.note('Find their owners: edgegw usage --kind legacy-jwt --since 7d')
      }
    })
}
