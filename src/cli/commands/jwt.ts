/**
 * `edgegw jwt add|ls|rm|rotate|update`: consumers' JWT credentials. `jwt add`
 * prints scwgw's `ALGORITHM  SECRET  ISS`; an HMAC secret is printed once, as
 * the exact string to sign with (its UTF-8 bytes are the key), or written to
 * `--secret-file`.
 */
import type { Command } from 'commander'
import { confirmed } from '../lib/confirm.js'
import { contextOf, type CommandContext } from '../lib/context.js'
import { formatRelative, parseDuration } from '../lib/duration.js'
import { UsageError } from '../lib/errors.js'
import { examples, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { readPublicKey } from '../lib/public-key.js'
import { withSecretFile } from '../lib/secrets.js'
import { syncUnlessSkipped } from '../lib/sync.js'
import type { Column } from '../lib/table.js'
import type { CredentialJson } from '../lib/wire.js'

const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

/** scwgw's columns for a credential just made: the secret (or where it went) and the `iss` to put in tokens. */
function createdColumns(secretFile: string | undefined): Column<CredentialJson>[] {
  return [
    { header: 'ALGORITHM', value: (c) => c.algorithm },
    { header: 'SECRET', value: (c) => (c.secret === undefined ? '(public key)' : secretFile ? `(written to ${secretFile})` : c.secret) },
    { header: 'ISS', value: (c) => c.key },
  ]
}

/** `jwt ls`: scwgw's columns, with the secret never shown again, then the id and the expiry a rotation set. */
export function credentialColumns(nowMs: number): Column<CredentialJson>[] {
  return [
    { header: 'ALGORITHM', value: (c) => c.algorithm },
    { header: 'SECRET', value: (c) => (c.rsa_public_key ? '(public key)' : '(shown once, at creation)') },
    { header: 'ISS', value: (c) => c.key },
    { header: 'ID', value: (c) => c.id },
    { header: 'EXPIRES', value: (c) => (c.expires_at ? `${c.expires_at} (${formatRelative(c.expires_at, nowMs)})` : 'never') },
  ]
}

interface SecretOptions {
  secretFile?: string
  sync?: boolean
}

/** Prints a credential that was just made, with its secret once. */
function printCreated(ctx: CommandContext, credential: CredentialJson, options: SecretOptions, extra: Record<string, unknown> = {}): void {
  if (ctx.out.json) {
    const { secret, ...rest } = credential
    return ctx.out.writeJson({ ...rest, ...(secret !== undefined && !options.secretFile ? { secret } : {}), ...(options.secretFile && secret !== undefined ? { secret_file: options.secretFile } : {}), ...extra })
  }
  ctx.out.table(createdColumns(options.secretFile), [credential], '')
  if (credential.secret !== undefined && !options.secretFile) ctx.out.note('\nThe secret is shown once: sign tokens with exactly this string as the HMAC key, and "iss" set to ISS.')
}

/** Registers `jwt` and its subcommands. */
export function registerJwt(program: Command, io: Io): void {
  const jwt = program
    .command('jwt')
    .description("Manage consumers' JWT credentials (the key a token names in iss, and its secret or public key)")
    .addHelpText('after', examples('edgegw jwt add my-app', 'edgegw jwt add my-app --public-key app.pub.pem', 'edgegw jwt ls my-app', 'edgegw jwt rotate my-app <iss> --overlap 7d', 'edgegw jwt rm my-app <iss> --yes'))

  jwt
    .command('add')
    .description('Add a JWT credential to a consumer; prints ALGORITHM, SECRET (once) and ISS')
    .argument('<consumer>', 'its username or id')
    .option('--algorithm <algorithm>', `one of ${ALGORITHMS.join(' ')} (default HS256, or the public key's)`)
    .option('--public-key <file>', 'a PEM public key (RS*, PS*, ES*, EdDSA credentials)')
    .option('--key <iss>', 'the iss tokens carry (default: 32 random characters)')
    .option('--secret-file <path>', 'write the HMAC secret to this new file (mode 0600) instead of printing it')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText(
      'after',
      examples('edgegw jwt add my-app', 'edgegw jwt add my-app --algorithm HS512 --secret-file my-app.secret', 'edgegw jwt add my-app --public-key app.pub.pem --key https://app.example') +
        '\nSign with the printed values, e.g. in Python: jwt.encode({"some": "payload", "iss": ISS}, SECRET, algorithm="HS256")\n',
    )
    .action(async (consumer: string, options: SecretOptions & { algorithm?: string; publicKey?: string; key?: string }, command: Command) => {
      const ctx = contextOf(command, io)
      const body = await credentialBody(options)
      const created = await withSecretFile(
        options.secretFile,
        async () => (await ctx.client.call<CredentialJson>('POST', `/consumers/${seg(consumer)}/jwt`, { body })).body,
        (c) => c.secret,
      )
      await syncUnlessSkipped(ctx, options)
      printCreated(ctx, created, options)
    })

  jwt
    .command('ls')
    .description("List a consumer's JWT credentials (never their secrets)")
    .argument('<consumer>', 'its username or id')
    .addHelpText('after', examples('edgegw jwt ls my-app', "edgegw jwt ls my-app --json | jq -r '.[].key'"))
    .action(async (consumer: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<{ data: CredentialJson[] }>('GET', `/consumers/${seg(consumer)}/jwt`)
      // The API never returns a secret in a list; dropped here too, whatever a gateway sends.
      const credentials = body.data.map(({ secret: _never, ...credential }) => credential)
      if (ctx.out.json) return ctx.out.writeJson(credentials)
      ctx.out.table(credentialColumns(io.now()), credentials, `${consumer} has no JWT credential yet: edgegw jwt add ${consumer}`)
    })

  jwt
    .command('rm')
    .description('Remove a JWT credential; tokens naming it are refused')
    .argument('<consumer>', 'its username or id')
    .argument('<credential>', 'its iss (key) or id')
    .option('-y, --yes', 'do not ask for confirmation (needed when not in a terminal)')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw jwt rm my-app Xk3…', 'edgegw jwt rm my-app 0b9d… --yes'))
    .action(async (consumer: string, credential: string, options: { yes?: boolean; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      if (!(await confirmed(io, `Remove the JWT credential ${credential} of ${consumer}? Tokens naming it will be refused`, options.yes))) return ctx.out.note('Nothing removed.')
      await ctx.client.call('DELETE', `/consumers/${seg(consumer)}/jwt/${seg(credential)}`)
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson({ consumer, credential, deleted: true })
      ctx.out.write(`JWT credential ${credential} of ${consumer} removed.`)
    })

  jwt
    .command('rotate')
    .description('Make a new credential for the consumer; the old one keeps working for --overlap, then is refused')
    .argument('<consumer>', 'its username or id')
    .argument('<credential>', 'the credential to replace: its iss (key) or id')
    .requiredOption('--overlap <duration>', 'how long the old credential keeps working, e.g. 7d, 12h, 30m')
    .option('--key <iss>', 'the new credential\'s iss (default: 32 random characters)')
    .option('--public-key <file>', 'the new PEM public key (asymmetric credentials)')
    .option('--secret-file <path>', 'write the new HMAC secret to this new file (mode 0600) instead of printing it')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw jwt rotate my-app Xk3… --overlap 7d', 'edgegw jwt rotate my-app https://app.example --overlap 1d --public-key new.pub.pem'))
    .action(async (consumer: string, credential: string, options: SecretOptions & { overlap: string; key?: string; publicKey?: string }, command: Command) => {
      const ctx = contextOf(command, io)
      const overlapSeconds = parseDuration(options.overlap, '--overlap')
      const body = {
        overlap_seconds: overlapSeconds,
        ...(options.key ? { key: options.key } : {}),
        ...(options.publicKey ? { rsa_public_key: (await readPublicKey(options.publicKey)).pem } : {}),
      }
      const rotated = await withSecretFile(
        options.secretFile,
        async () => (await ctx.client.call<CredentialJson & { previous: { id: string; key: string; expires_at: string } }>('POST', `/consumers/${seg(consumer)}/jwt/${seg(credential)}/rotate`, { body })).body,
        (c) => c.secret,
      )
      await syncUnlessSkipped(ctx, options)
      const { previous, ...created } = rotated
      printCreated(ctx, created, options, { previous })
      if (!ctx.out.json) ctx.out.note(`The previous credential ${previous.key} keeps working until ${previous.expires_at} (${formatRelative(previous.expires_at, io.now())}), then is refused.`)
    })

  jwt
    .command('update')
    .description("Change a credential in place (PATCH): its iss, a new secret or a new public key; tokens made with the old values stop working")
    .argument('<consumer>', 'its username or id')
    .argument('<credential>', 'its iss (key) or id')
    .option('--key <iss>', 'a new iss')
    .option('--new-secret', 'generate a new HMAC secret (printed once, or written to --secret-file)')
    .option('--public-key <file>', 'a new PEM public key')
    .option('--secret-file <path>', 'write the new HMAC secret to this new file (mode 0600)')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw jwt update my-app Xk3… --new-secret', 'edgegw jwt update my-app Xk3… --key https://app.example'))
    .action(async (consumer: string, credential: string, options: SecretOptions & { key?: string; newSecret?: boolean; publicKey?: string }, command: Command) => {
      const ctx = contextOf(command, io)
      const body = {
        ...(options.key ? { key: options.key } : {}),
        ...(options.newSecret ? { generate_secret: true } : {}),
        ...(options.publicKey ? { rsa_public_key: (await readPublicKey(options.publicKey)).pem } : {}),
      }
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change: pass --key, --new-secret or --public-key')
      if (options.secretFile && !options.newSecret) throw new UsageError('--secret-file goes with --new-secret')
      const updated = await withSecretFile(
        options.secretFile,
        async () => (await ctx.client.call<CredentialJson>('PATCH', `/consumers/${seg(consumer)}/jwt/${seg(credential)}`, { body })).body,
        (c) => c.secret,
      )
      await syncUnlessSkipped(ctx, options)
      printCreated(ctx, updated, options)
    })
}

/** The body of `POST /consumers/{c}/jwt` from `jwt add`'s options. */
async function credentialBody(options: { algorithm?: string; publicKey?: string; key?: string }): Promise<Record<string, string>> {
  if (options.algorithm !== undefined && !ALGORITHMS.includes(options.algorithm)) throw new UsageError(`--algorithm: "${options.algorithm}" is not one of ${ALGORITHMS.join(', ')}`)
  const publicKey = options.publicKey ? await readPublicKey(options.publicKey) : undefined
  const algorithm = options.algorithm ?? publicKey?.algorithm ?? 'HS256'
  if (publicKey && algorithm.startsWith('HS')) throw new UsageError(`--public-key: ${algorithm} credentials take a secret, not a public key; pass --algorithm (RS256, ES256, EdDSA…)`)
  if (!publicKey && !algorithm.startsWith('HS')) throw new UsageError(`--algorithm ${algorithm}: needs --public-key <file>`)
  return { algorithm, ...(options.key ? { key: options.key } : {}), ...(publicKey ? { rsa_public_key: publicKey.pem } : {}) }
}
