/**
 * `edgegw usage`: who uses what (`GET /usage`): per credential its owner or
 * namespace, calls, first and last seen, routes and a few user agents, enough
 * to find the owner of a legacy token.
 */
import type { Command } from 'commander'
import { contextOf } from '../lib/context.js'
import { formatRelative, parseDuration } from '../lib/duration.js'
import type { CredentialUsageJson, UsageJson } from '../lib/legacy-tokens.js'
import { examples, oneOf } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import type { Column } from '../lib/table.js'

/** The credential kinds the gateway counts. */
export const USAGE_KINDS = ['iam-api-key', 'legacy-jwt', 'consumer-jwt', 'oidc-jwt', 'anonymous'] as const

/**
 * `--since` as `GET /usage` takes it: a UTC day as given, or a duration rounded up to whole days (`36h` → `2d`).
 * @throws {UsageError} for anything else.
 */
export function sinceQuery(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text
  return `${Math.max(1, Math.ceil(parseDuration(text, '--since') / 86_400))}d`
}

/** Who a credential belongs to, for people: the bearer's name, else its id; for a legacy token, the namespace it was used in. */
function owner(c: CredentialUsageJson): string | null {
  if (c.kind === 'legacy-jwt') return c.namespace_id ? `namespace ${c.namespace_id}` : null
  return `${c.principal.type}:${c.principal.name ?? c.principal.id}`
}

/** The columns of `usage`. */
export function usageColumns(nowMs: number): Column<CredentialUsageJson>[] {
  return [
    { header: 'KIND', value: (c) => c.kind },
    { header: 'CREDENTIAL', value: (c) => c.credential_id },
    { header: 'OWNER', value: owner },
    { header: 'CALLS', value: (c) => c.calls },
    { header: 'FIRST SEEN', value: (c) => formatRelative(c.first_seen, nowMs) },
    { header: 'LAST SEEN', value: (c) => formatRelative(c.last_seen, nowMs) },
    { header: 'ROUTES', value: (c) => c.routes.map((r) => `${r.route}:${r.calls}`).join(',') },
    { header: 'USER AGENTS', value: (c) => c.user_agents.join(' | ') },
  ]
}

/** Registers `usage`. */
export function registerUsage(program: Command, io: Io): void {
  program
    .command('usage')
    .description('Who uses what: accepted calls per credential (owner, routes, user agents), from the usage ledger')
    .option('--kind <kind>', `only this kind of credential: ${USAGE_KINDS.join(', ')}`)
    .option('--since <duration|day>', 'calls from this long ago (whole UTC days, e.g. 7d) or this UTC day (2026-11-01)', '7d')
    .option('--credential <id>', 'only this credential (access key, token id…)')
    .option('--limit <n>', 'at most this many credentials (1–1000)', '100')
    .addHelpText('after', examples('edgegw usage --kind legacy-jwt --since 7d', "edgegw usage --kind legacy-jwt --json | jq -r '.credentials[].user_agents[]'"))
    .action(async (options: { kind?: string; since: string; credential?: string; limit: string }, command: Command) => {
      const ctx = contextOf(command, io)
      const kind = options.kind === undefined ? undefined : oneOf(options.kind, USAGE_KINDS, '--kind')
      const { body } = await ctx.client.call<UsageJson>('GET', '/usage', { query: { kind, since: sinceQuery(options.since), credential: options.credential, limit: options.limit } })
      if (ctx.out.json) return ctx.out.writeJson(body)
      ctx.out.table(usageColumns(io.now()), body.credentials, `No accepted calls${kind ? ` with ${kind}` : ''} since ${body.since}.`)
      if (body.truncated) ctx.out.note(`More credentials than --limit ${options.limit}: raise it, or narrow with --kind / --credential.`)
      if (body.dropped_calls > 0) ctx.out.note(`${body.dropped_calls} calls were not counted (an isolate held too many entries).`)
      if (body.pending_flush === 'failed') ctx.out.note('The answering isolate could not flush its counts: the last seconds may be missing.')
    })
}
