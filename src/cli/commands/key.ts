/**
 * `edgegw key mint|register|ls|rotate|revoke`: IAM API keys, whose secret's
 * digest the gateway captures when it sees the secret (minted through it, or
 * registered once).
 */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { confirmed } from '../lib/confirm.js'
import { contextOf, type CommandContext } from '../lib/context.js'
import { formatRelative, parseDuration } from '../lib/duration.js'
import { GatewayError, UsageError } from '../lib/errors.js'
import { examples, isUuid, oneOf, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { readSecretFromStdin, withSecretFile } from '../lib/secrets.js'
import type { Column } from '../lib/table.js'
import { syncNow, syncUnlessSkipped } from '../lib/sync.js'
import type { ApiKeyJson, MintedKeyJson } from '../lib/wire.js'

const KINDS = ['personal', 'ci', 'service'] as const
const ACCESS_KEY = /^SCW[0-9A-Z]{17}$/

/** The columns of `key ls`: access key, bearer, kind, expiry, captured or not. */
export function keyColumns(nowMs: number): Column<ApiKeyJson>[] {
  return [
    { header: 'ACCESS KEY', value: (k) => k.access_key },
    { header: 'BEARER', value: (k) => `${k.bearer.type}:${k.bearer.name ?? k.bearer.id}` },
    { header: 'KIND', value: (k) => k.kind },
    { header: 'EXPIRES', value: (k) => (k.expires_at ? `${k.expires_at} (${formatRelative(k.expires_at, nowMs)})` : 'never') },
    { header: 'CAPTURED', value: (k) => (k.captured ? 'yes' : 'no (edgegw key register)') },
  ]
}

function mintedColumns(secretFile: string | undefined, nowMs: number): Column<MintedKeyJson>[] {
  return [
    { header: 'ACCESS KEY', value: (k) => k.access_key },
    { header: 'SECRET KEY', value: (k) => (secretFile ? `(written to ${secretFile})` : k.secret_key) },
    { header: 'KIND', value: (k) => k.kind },
    { header: 'EXPIRES', value: (k) => (k.expires_at ? `${k.expires_at} (${formatRelative(k.expires_at, nowMs)})` : 'never') },
  ]
}

function printMinted(ctx: CommandContext, key: MintedKeyJson, secretFile: string | undefined, extra: Record<string, unknown> = {}): void {
  if (ctx.out.json) {
    const { secret_key, ...rest } = key
    return ctx.out.writeJson({ ...rest, ...(secretFile ? { secret_file: secretFile } : { secret_key }), ...extra })
  }
  ctx.out.table(mintedColumns(secretFile, ctx.io.now()), [key], '')
  if (!secretFile) ctx.out.note('\nThe secret key is shown once: IAM never returns it again. Send it as X-Auth-Token.')
}

const checkAccessKey = (accessKey: string): string => {
  if (!ACCESS_KEY.test(accessKey)) throw new UsageError(`<access key>: expected SCW followed by 17 letters or digits, got ${JSON.stringify(accessKey.slice(0, 24))}`)
  return accessKey
}

/** An application id, from an id or a name (`GET /applications?name=`). */
async function applicationId(ctx: CommandContext, application: string): Promise<string> {
  if (isUuid(application)) return application
  const { body } = await ctx.client.call<{ data: { id: string; name: string }[] }>('GET', '/applications', { query: { name: application } })
  const exact = body.data.filter((a) => a.name === application)
  if (exact.length === 1) return exact[0]!.id
  if (exact.length === 0) throw new GatewayError(404, 'application_not_found', `no IAM application is named ${JSON.stringify(application)}`)
  throw new GatewayError(409, 'application_ambiguous', `${exact.length} IAM applications are named ${JSON.stringify(application)}: pass the id (${exact.map((a) => a.id).join(', ')})`)
}

/** Registers `key` and its subcommands. */
export function registerKey(program: Command, io: Io): void {
  const key = program
    .command('key')
    .description('Manage IAM API keys at the edge: mint, register, list, rotate, revoke')
    .addHelpText(
      'after',
      examples('edgegw key mint ci-deployer --kind ci --expires 90d', 'printf %s "$SECRET" | edgegw key register SCWXXXXXXXXXXXXXXXXX', 'edgegw key ls', 'edgegw key rotate SCWXXXXXXXXXXXXXXXXX --overlap 7d', 'edgegw key revoke SCWXXXXXXXXXXXXXXXXX --yes'),
    )

  key
    .command('mint')
    .description("Mint an IAM API key for an application; the gateway captures its secret's digest")
    .argument('<application>', 'the IAM application: its name or id')
    .option('--kind <kind>', `the key's kind: ${KINDS.join(', ')} (routes may accept only some)`)
    .option('--expires <duration>', 'expire after this long, e.g. 90d (default: never)')
    .option('--description <text>', 'the key description in IAM')
    .option('--project <id>', 'its default project id')
    .option('--secret-file <path>', 'write the secret key to this new file (mode 0600) instead of printing it')
    .option('--no-sync', 'return without waiting for the sync that puts the key at the edge')
    .addHelpText('after', examples('edgegw key mint ci-deployer --kind ci --expires 90d', 'edgegw key mint billing-service --kind service --secret-file billing.key'))
    .action(async (application: string, options: { kind?: string; expires?: string; description?: string; project?: string; secretFile?: string; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      const kind = options.kind === undefined ? undefined : oneOf(options.kind, KINDS, '--kind')
      const expiresAt = options.expires === undefined ? undefined : new Date(io.now() + 1000 * parseDuration(options.expires, '--expires')).toISOString()
      const body = {
        application_id: await applicationId(ctx, application),
        description: options.description ?? `edgegw key mint${kind ? ` (${kind})` : ''}`,
        ...(expiresAt ? { expires_at: expiresAt } : {}),
        ...(options.project ? { default_project_id: options.project } : {}),
        ...(kind ? { kind } : {}),
      }
      const minted = await withSecretFile(options.secretFile, async () => (await ctx.client.call<MintedKeyJson>('POST', '/api-keys', { body })).body, (k) => k.secret_key)
      // Printed before the sync: a failed sync must not lose the secret.
      printMinted(ctx, minted, options.secretFile)
      await syncUnlessSkipped(ctx, options)
    })

  key
    .command('register')
    .description('Hand an existing key\'s secret to the gateway once (it keeps only its digest); the secret is read from stdin')
    .argument('<access key>', 'the key\'s access key (SCW…)')
    .option('--kind <kind>', `the key's kind: ${KINDS.join(', ')}`)
    .option('--secret-from <file>', 'read the secret key from this file instead of stdin')
    .option('--replace', 'replace a different digest captured before for this key')
    .addHelpText(
      'after',
      examples('printf %s "$SCW_SECRET" | edgegw key register SCWXXXXXXXXXXXXXXXXX --kind ci', 'edgegw key register SCWXXXXXXXXXXXXXXXXX --secret-from ci.key') +
        "\nThe gateway checks the secret against IAM (it must be this key's, live) and refuses keys of the owner or with IAMManager.\n",
    )
    .action(async (accessKey: string, options: { kind?: string; secretFrom?: string; replace?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      checkAccessKey(accessKey)
      const kind = options.kind === undefined ? undefined : oneOf(options.kind, KINDS, '--kind')
      const secret = options.secretFrom
        ? (await readFile(options.secretFrom, 'utf8').catch((error: { code?: string }) => {
            throw new UsageError(`--secret-from: cannot read ${options.secretFrom} (${error.code ?? 'error'})`)
          })).trim()
        : await readSecretFromStdin(io.stdin, 'the secret key')
      const { body } = await ctx.client.call<{ replaced: boolean }>('POST', '/api-keys/register', { body: { access_key: accessKey, secret_key: secret, ...(kind ? { kind } : {}), ...(options.replace ? { replace: true } : {}) } })
      await syncNow(ctx)
      if (ctx.out.json) return ctx.out.writeJson({ access_key: accessKey, registered: true, replaced: body.replaced })
      ctx.out.write(`Key ${accessKey} registered${body.replaced ? ' (the digest captured before is replaced)' : ''}: the gateway keeps the digest of its secret, never the secret.`)
    })

  key
    .command('ls')
    .description('List the IAM API keys: bearer, kind, expiry, and whether the gateway captured the secret')
    .option('--application <application>', 'only the keys of this application (name or id)')
    .addHelpText('after', examples('edgegw key ls', 'edgegw key ls --application ci-deployer', "edgegw key ls --json | jq -r '.[] | select(.captured | not) | .access_key'"))
    .action(async (options: { application?: string }, command: Command) => {
      const ctx = contextOf(command, io)
      const application = options.application ? await applicationId(ctx, options.application) : undefined
      const keys: ApiKeyJson[] = []
      const progress = ctx.out.progress('listing API keys')
      try {
        for (let page = 1; ; page++) {
          const { body } = await ctx.client.call<{ data: ApiKeyJson[]; total_count: number }>('GET', '/api-keys', { query: { page, page_size: 100, ...(application ? { application_id: application } : {}) } })
          keys.push(...body.data)
          progress.update(keys.length, body.total_count)
          if (body.data.length === 0 || keys.length >= body.total_count) break
        }
      } finally {
        progress.end()
      }
      if (ctx.out.json) return ctx.out.writeJson(keys)
      ctx.out.table(keyColumns(io.now()), keys, 'No API keys in the organisation.')
    })

  key
    .command('rotate')
    .description('Mint a new key for the same bearer; the old one keeps working for --overlap, then expires')
    .argument('<access key>', 'the key to replace (SCW…)')
    .requiredOption('--overlap <duration>', 'how long the old key keeps working, e.g. 7d, 12h')
    .option('--expires <duration>', "the new key's lifetime (default: the old key's lifetime, or never)")
    .option('--secret-file <path>', 'write the new secret key to this new file (mode 0600) instead of printing it')
    .addHelpText('after', examples('edgegw key rotate SCWXXXXXXXXXXXXXXXXX --overlap 7d', 'edgegw key rotate SCWXXXXXXXXXXXXXXXXX --overlap 1d --expires 90d --secret-file ci.key'))
    .action(async (accessKey: string, options: { overlap: string; expires?: string; secretFile?: string }, command: Command) => {
      const ctx = contextOf(command, io)
      checkAccessKey(accessKey)
      const overlapSeconds = parseDuration(options.overlap, '--overlap')
      const expiresAt = options.expires === undefined ? undefined : new Date(io.now() + 1000 * parseDuration(options.expires, '--expires')).toISOString()
      const rotated = await withSecretFile(
        options.secretFile,
        async () =>
          (await ctx.client.call<MintedKeyJson & { previous: { access_key: string; expires_at: string | null; error?: string }; sync: { ok: boolean; error: string | null } }>('POST', `/api-keys/${seg(accessKey)}/rotate`, {
            body: { overlap_seconds: overlapSeconds, ...(expiresAt ? { expires_at: expiresAt } : {}) },
          })).body,
        (k) => k.secret_key,
      )
      const { previous, sync, ...minted } = rotated
      printMinted(ctx, minted, options.secretFile, { previous, sync })
      // The new key exists either way: it is printed first, then what went wrong.
      if (previous.error) throw new GatewayError(502, 'rotation_incomplete', `${previous.error}; the previous key ${previous.access_key} does not expire: set its expiry in IAM, or edgegw key revoke it`)
      if (!ctx.out.json && previous.expires_at) ctx.out.note(`The previous key ${previous.access_key} keeps working until ${previous.expires_at} (${formatRelative(previous.expires_at, io.now())}), then is refused.`)
      if (!sync.ok) throw new GatewayError(502, 'sync_failed', `the new key works at the edge after the next successful sync (${sync.error ?? 'see edgegw status'})`)
    })

  key
    .command('revoke')
    .description('Delete a key in IAM and at the edge now (the gateway syncs at once, not at the next Cron)')
    .argument('<access key>', 'the key to revoke (SCW…)')
    .option('-y, --yes', 'do not ask for confirmation (needed when not in a terminal)')
    .addHelpText('after', examples('edgegw key revoke SCWXXXXXXXXXXXXXXXXX', 'edgegw key revoke SCWXXXXXXXXXXXXXXXXX --yes'))
    .action(async (accessKey: string, options: { yes?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      checkAccessKey(accessKey)
      if (!(await confirmed(io, `Revoke ${accessKey}? It is deleted in IAM and refused at the edge`, options.yes))) return ctx.out.note('Nothing revoked.')
      const { body } = await ctx.client.call<{ access_key: string; deleted: boolean; capture_forgotten: boolean; sync: { ok: boolean; error?: string | null } }>('DELETE', `/api-keys/${seg(accessKey)}`)
      if (ctx.out.json) ctx.out.writeJson(body)
      else ctx.out.write(`Key ${accessKey} ${body.deleted ? 'deleted in IAM' : 'was already gone from IAM; its captured digest is forgotten'}${body.sync.ok ? ' and removed from the key set' : ''}.`)
      if (!body.sync.ok) throw new GatewayError(502, 'sync_failed', `${accessKey} is deleted in IAM, but the sync failed (${body.sync.error ?? 'see edgegw status'}): the edge refuses it after the next successful sync`)
    })
}
