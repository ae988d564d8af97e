/** `edgegw migrate plan`: reads the live legacy tokens and their usage, writes the plan file for review. */
import { access } from 'node:fs/promises'
import type { Command } from 'commander'
import { UsageError } from '../lib/errors.js'
import { parsePastInstant } from '../lib/instant.js'
import { legacyUsage, listLegacyTokens } from '../lib/legacy-tokens.js'
import { buildPlan, type RouteInfo } from '../lib/migration-build.js'
import { writePlan, type PlanGroup } from '../lib/migration-plan.js'
import { examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import type { Column } from '../lib/table.js'
import { migrateContextOf } from './migrate.js'

const groupColumns: Column<PlanGroup>[] = [
  { header: 'APPLICATION', value: (g) => g.application.name },
  { header: 'SCOPE', value: (g) => g.scope.label },
  { header: 'CONDITION', value: (g) => g.policy.rule.condition },
  { header: 'TOKENS', value: (g) => g.tokens.length },
  { header: 'KEYS', value: (g) => g.tokens.map((t) => t.key_kind).join(',') },
  { header: 'VERIFY', value: (g) => `${g.verify.allowed.length} allowed, ${g.verify.refused.length} refused` },
]

/** Registers `migrate plan`. */
export function registerMigratePlan(migrate: Command, io: Io): void {
  migrate
    .command('plan')
    .description('Write a plan: per scope an IAM application and a policy with a resource.* condition, one key per token; idle tokens marked for deletion')
    .option('--out <file>', 'the plan file to write', 'migration-plan.json')
    .option('--idle-since <time|duration>', 'tokens with no use since then are marked for deletion (e.g. 30d, 2026-11-01)', '30d')
    .option('--force', 'overwrite an existing plan file (it records what apply created: keep it)')
    .addHelpText('after', examples('edgegw migrate plan', 'edgegw migrate plan --out plan.json --idle-since 14d'))
    .action(async (options: { out: string; idleSince: string; force?: boolean }, command: Command) => {
      const ctx = migrateContextOf(command, io)
      const now = io.now()
      const idleSinceMs = parsePastInstant(options.idleSince, '--idle-since', now)
      if (!options.force && (await access(options.out).then(() => true, () => false))) {
        throw new UsageError(`--out: ${options.out} exists (a plan records what apply created); pass --force to replace it, or choose another file`)
      }
      const [tokens, usage, routes] = await Promise.all([
        listLegacyTokens(ctx.scw),
        legacyUsage(ctx.client, idleSinceMs, now),
        ctx.client.call<{ routes: RouteInfo[] }>('GET', '/routes').then(({ body }) => body.routes),
      ])
      const plan = buildPlan({ organizationId: ctx.scw.settings.organizationId, region: ctx.scw.settings.region, tokens, usage, routes, idleSinceMs, nowMs: now })
      await writePlan(options.out, plan)
      if (ctx.out.json) return ctx.out.writeJson({ file: options.out, plan })
      ctx.out.table(groupColumns, plan.groups, 'No legacy token in use: nothing to migrate.')
      const migrated = plan.groups.reduce((n, g) => n + g.tokens.length, 0)
      ctx.out.write(`\n${migrated} tokens to migrate in ${plan.groups.length} applications; ${plan.idle.length} idle or expired tokens for deletion (migrate finish).`)
      ctx.out.note(`Plan written to ${options.out}: review it, then edgegw migrate apply ${options.out} --secrets-dir <dir>.`)
    })
}
