/** `edgegw oidc add|ls|rm`: OIDC providers whose JWTs routes may accept (`--oidc <id>`). */
import type { Command } from 'commander'
import { contextOf } from '../lib/context.js'
import { GatewayError, UsageError } from '../lib/errors.js'
import { collect, examples, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { syncUnlessSkipped } from '../lib/sync.js'
import type { Column } from '../lib/table.js'
import type { OidcIssuerJson } from '../lib/wire.js'

export const OIDC_COLUMNS: Column<OidcIssuerJson>[] = [
  { header: 'ID', value: (i) => i.id },
  { header: 'ISSUER', value: (i) => i.issuer },
  { header: 'AUDIENCES', value: (i) => i.audiences.join(',') },
  { header: 'ALGORITHMS', value: (i) => i.algorithms.join(',') },
  { header: 'JWKS KEYS', value: (i) => (i.jwks ? i.jwks.keys.length : 'not synced') },
  { header: 'JWKS FETCHED', value: (i) => i.jwks?.fetched_at ?? (i.jwks ? 'never' : '-') },
]

/** Registers `oidc` and its subcommands. */
export function registerOidc(program: Command, io: Io): void {
  const oidc = program
    .command('oidc')
    .description('Manage the OIDC issuers whose JWTs routes may accept')
    .addHelpText('after', examples('edgegw oidc add corp --issuer https://login.example.com/ --audience edge-gateway --jwks-uri https://login.example.com/.well-known/jwks.json', 'edgegw oidc ls', 'edgegw oidc rm corp'))

  oidc
    .command('add')
    .description('Add an OIDC issuer (or replace it with --replace)')
    .argument('<id>', 'the id routes name it by (letters, digits, . _ ~ -)')
    .requiredOption('--issuer <url>', 'the iss its tokens carry')
    .requiredOption('--audience <aud>', 'an audience a token must hold (repeatable)', collect)
    .requiredOption('--jwks-uri <url>', 'where its JWKS is (https)')
    .option('--algorithm <alg>', 'accepted algorithms (repeatable; default RS256,ES256)', collect)
    .option('--replace', 'replace an issuer with this id')
    .option('--no-sync', 'return without waiting for the sync that fetches its JWKS')
    .addHelpText('after', examples('edgegw oidc add corp --issuer https://login.example.com/ --audience edge-gateway --jwks-uri https://login.example.com/.well-known/jwks.json'))
    .action(async (id: string, options: { issuer: string; audience: string[]; jwksUri: string; algorithm?: string[]; replace?: boolean; sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      if (!options.replace) {
        const exists = await ctx.client.call('GET', `/oidc-issuers/${seg(id)}`).then(
          () => true,
          (error: unknown) => {
            if (error instanceof GatewayError && error.status === 404) return false
            throw error
          },
        )
        if (exists) throw new UsageError(`an OIDC issuer "${id}" exists; pass --replace to replace it`)
      }
      const { body } = await ctx.client.call<OidcIssuerJson>('PUT', `/oidc-issuers/${seg(id)}`, {
        body: { issuer: options.issuer, audiences: options.audience, jwks_uri: options.jwksUri, ...(options.algorithm ? { algorithms: options.algorithm } : {}) },
      })
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson(body)
      ctx.out.table(OIDC_COLUMNS, [body], '')
    })

  oidc
    .command('ls')
    .description('List the OIDC issuers, with the JWKS keys the last sync fetched')
    .addHelpText('after', examples('edgegw oidc ls', 'edgegw oidc ls --json'))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const { body } = await ctx.client.call<{ data: OidcIssuerJson[] }>('GET', '/oidc-issuers')
      if (ctx.out.json) return ctx.out.writeJson(body.data)
      ctx.out.table(OIDC_COLUMNS, body.data, 'No OIDC issuers yet: edgegw oidc add <id> --issuer … --audience … --jwks-uri …')
    })

  oidc
    .command('rm')
    .description('Remove an OIDC issuer')
    .argument('<id>', 'its id')
    .option('--no-sync', 'return without waiting for the sync')
    .addHelpText('after', examples('edgegw oidc rm corp'))
    .action(async (id: string, options: { sync?: boolean }, command: Command) => {
      const ctx = contextOf(command, io)
      await ctx.client.call('DELETE', `/oidc-issuers/${seg(id)}`)
      await syncUnlessSkipped(ctx, options)
      if (ctx.out.json) return ctx.out.writeJson({ id, deleted: true })
      ctx.out.write(`OIDC issuer ${id} removed.`)
    })
}
