/**
 * `edgegw migrate finish`: deletes the legacy tokens with no use since a date
 * (on the platform; the gateway refuses them after the sync it then runs), and
 * refuses those still in use unless `--force`. Dry run unless `--yes`.
 */
import type { Command } from 'commander'
import { formatRelative } from '../lib/duration.js'
import { GatewayError } from '../lib/errors.js'
import { parsePastInstant } from '../lib/instant.js'
import { deleteLegacyToken, legacyUsage, listLegacyTokens } from '../lib/legacy-tokens.js'
import { readPlan } from '../lib/migration-plan.js'
import { examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncNow } from '../lib/sync.js'
import { migrateContextOf } from './migrate.js'

/** What finish does with one token. */
export interface FinishRow {
  token_id: string
  product: 'functions' | 'containers'
  scope: string
  last_seen: string | null
  action: 'delete' | 'deleted' | 'refused: in use' | 'delete (forced)' | 'deleted (forced)'
}

/** Registers `migrate finish`. */
export function registerMigrateFinish(migrate: Command, io: Io): void {
  migrate
    .command('finish')
    .description('Delete the legacy tokens with no use since a date; those still in use are refused unless --force (dry run unless --yes)')
    .requiredOption('--unused-since <time|duration>', 'delete tokens with no accepted call since then (e.g. 7d, or the sunset time)')
    .option('--plan <file>', 'only the tokens of this plan (migrated and idle ones)')
    .option('--force', 'delete tokens still in use too')
    .option('--yes', 'delete them (without it, only show what would be deleted)')
    .addHelpText('after', examples('edgegw migrate finish --unused-since 7d', 'edgegw migrate finish --unused-since 2027-01-15T00:00:00Z --plan plan.json --yes'))
    .action(async (options: { unusedSince: string; plan?: string; force?: boolean; yes?: boolean }, command: Command) => {
      const ctx = migrateContextOf(command, io)
      const now = io.now()
      const sinceMs = parsePastInstant(options.unusedSince, '--unused-since', now)
      const only = options.plan ? await readPlan(options.plan).then((p) => new Set([...p.groups.flatMap((g) => g.tokens.map((t) => t.token_id)), ...p.idle.map((t) => t.token_id)])) : undefined
      const [tokens, usage] = await Promise.all([listLegacyTokens(ctx.scw), legacyUsage(ctx.client, sinceMs, now)])
      const rows: FinishRow[] = []
      for (const token of tokens) {
        if (only && !only.has(token.id)) continue
        const lastSeen = usage.get(token.id)?.lastSeen ?? null
        const inUse = lastSeen !== null && Date.parse(lastSeen) >= sinceMs
        const action: FinishRow['action'] = inUse ? (options.force ? 'delete (forced)' : 'refused: in use') : 'delete'
        rows.push({ token_id: token.id, product: token.product, scope: token.scope.label, last_seen: lastSeen, action })
      }
      let deleted = 0
      if (options.yes) {
        for (const row of rows) {
          if (row.action === 'refused: in use') continue
          await deleteLegacyToken(ctx.scw, row.product, row.token_id)
          row.action = row.action === 'delete' ? 'deleted' : 'deleted (forced)'
          deleted++
        }
        if (deleted > 0) await syncNow(ctx)
      }
      const refused = rows.filter((r) => r.action === 'refused: in use')
      if (ctx.out.json) ctx.out.writeJson({ dry_run: !options.yes, unused_since: new Date(sinceMs).toISOString(), deleted, refused: refused.length, tokens: rows })
      else {
        ctx.out.table(
          [
            { header: 'TOKEN', value: (r: FinishRow) => r.token_id },
            { header: 'SCOPE', value: (r: FinishRow) => r.scope },
            { header: 'LAST SEEN', value: (r: FinishRow) => (r.last_seen ? formatRelative(r.last_seen, now) : 'never') },
            { header: 'ACTION', value: (r: FinishRow) => (options.yes || r.action.startsWith('refused') ? r.action : `would ${r.action}`) },
          ],
          rows,
          'No legacy token left.',
        )
        if (!options.yes) ctx.out.note('\nDry run: nothing was deleted. Pass --yes to delete.')
        else ctx.out.note(`\n${deleted} legacy tokens deleted; the gateway refuses them from this sync on.`)
      }
      if (refused.length > 0) {
        throw new GatewayError(0, 'tokens_in_use', `${refused.length} legacy tokens were used since ${new Date(sinceMs).toISOString()} and were not deleted; find their owners with edgegw usage --kind legacy-jwt, or pass --force`)
      }
    })
}
