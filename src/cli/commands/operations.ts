/** `edgegw sync`, `edgegw status`, `edgegw doctor`: the key set and the gateway's health. */
import type { Command } from 'commander'
import { ADMIN_PATH } from '../lib/admin-client.js'
import { contextOf } from '../lib/context.js'
import { formatRelative } from '../lib/duration.js'
import { GatewayError } from '../lib/errors.js'
import { examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncNow } from '../lib/sync.js'
import type { DoctorCheckJson, StatusJson } from '../lib/wire.js'

/** Registers `sync`, `status` and `doctor`. */
export function registerOperations(program: Command, io: Io): void {
  program
    .command('sync')
    .description('Sync the key set now (IAM, the serverless API, the registry) and wait for it')
    .addHelpText('after', examples('edgegw sync', 'edgegw sync --json'))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const outcome = await syncNow(ctx)
      if (ctx.out.json) return ctx.out.writeJson(outcome)
      const counts = outcome.status.counts
      ctx.out.write(
        `Synced in ${outcome.status.durationMs} ms: key set ${outcome.changed ? 'changed' : 'unchanged'} (${(outcome.status.snapshotId ?? '').slice(0, 8)}), ` +
          `${counts.apiKeys ?? 0} API keys, ${counts.routes ?? 0} routes, ${counts.consumers ?? 0} consumers, ${counts.jwtCredentials ?? 0} JWT credentials.`,
      )
      for (const warning of outcome.status.warnings ?? []) ctx.out.note(`warning: ${warning}`)
    })

  program
    .command('status')
    .description('The key set the gateway serves: snapshot age, counts, warnings, the last sync error')
    .addHelpText('after', examples('edgegw status', 'edgegw status --json | jq .sync.counts'))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<StatusJson>('GET', '/status')
      if (ctx.out.json) return ctx.out.writeJson(body)
      const now = io.now()
      const { keySet, sync } = body
      ctx.out.fields([
        ['gateway', ctx.client.gatewayUrl],
        ['snapshot', keySet ? `${keySet.snapshotId.slice(0, 8)} (${keySet.source}), generated ${formatRelative(keySet.generatedAt, now)}` : 'none yet: run edgegw sync'],
        ['last sync ok', sync?.lastSuccessAt ? `${sync.lastSuccessAt} (${formatRelative(sync.lastSuccessAt, now)})` : 'never'],
        ['last error', sync?.lastError ? `${sync.lastError.message} (${formatRelative(sync.lastError.at, now)}, ${sync.consecutiveFailures} in a row)` : 'none'],
      ])
      if (sync) {
        ctx.out.write('\ncounts:')
        ctx.out.fields(Object.entries(sync.counts).map(([name, value]) => [`  ${name}`, value] as const))
        const warnings = sync.warnings ?? []
        ctx.out.write(`\nwarnings: ${warnings.length === 0 ? 'none' : ''}`)
        for (const warning of warnings) ctx.out.write(`  - ${warning}`)
      }
    })

  program
    .command('doctor')
    .description('Check the setup, one line per check: settings, secrets, IAM, key set freshness, the Cron')
    .addHelpText('after', examples('edgegw doctor', 'edgegw doctor --json') + '\nExits 1 when a check fails.\n')
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const checks: DoctorCheckJson[] = [
        { name: 'admin credential', ok: true, detail: `from ${ctx.connection.tokenSource}` },
        { name: 'gateway URL', ok: true, detail: `${ctx.client.gatewayUrl} (from ${ctx.connection.urlSource})` },
      ]
      try {
        const { body } = await ctx.client.call<{ checks: DoctorCheckJson[] }>('GET', '/doctor')
        checks.push(...body.checks)
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error
        const fix =
          error.status === 0
            ? 'start the gateway (npm start) or set --url / EDGEGW_URL'
            : error.status === 401 || error.status === 403
              ? "set EDGEGW_ADMIN_TOKEN to the gateway's ADMIN_TOKEN, or SCW_SECRET_KEY to an IAM key with IAMManager"
              : `is ${ctx.client.gatewayUrl}${ADMIN_PATH} an edge-auth-gateway of this version?`
        checks.push({ name: 'admin API', ok: false, detail: `${error.code}: ${error.detail}`, fix })
      }
      if (ctx.out.json) ctx.out.writeJson({ ok: checks.every((c) => c.ok), checks })
      else {
        const width = Math.max(...checks.map((c) => c.name.length))
        for (const check of checks) {
          ctx.out.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail}${check.ok || !check.fix ? '' : `\n      ${' '.repeat(width)}  → ${check.fix}`}`)
        }
      }
      const failed = checks.filter((c) => !c.ok).length
      if (failed > 0) throw new GatewayError(0, 'doctor_failed', `${failed} check(s) failed`)
    })
}
