/** The `edgegw` command tree, built on commander. */
import { createRequire } from 'node:module'
import { Command, Option } from 'commander'
import { registerConsumer } from './commands/consumer.js'
import { registerJwt } from './commands/jwt.js'
import { registerKey } from './commands/key.js'
import { registerMigrate } from './commands/migrate.js'
import { registerOidc } from './commands/oidc.js'
import { registerOperations } from './commands/operations.js'
import { registerRoute } from './commands/route.js'
import { registerUsage } from './commands/usage.js'
import { DEFAULT_URL } from './lib/context.js'
import { examples } from './lib/options.js'
import type { Io } from './lib/output.js'

/** The CLI's version: the package's (src/cli and dist/cli are both two levels under it). */
export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

/**
 * Builds the program. Settings made here (output, exit override) are inherited
 * by every subcommand, which is why each is created with `.command()`.
 */
export function buildProgram(io: Io): Command {
  const program = new Command('edgegw')
  program
    .description("Manage an edge-auth-gateway: routes, consumers, JWT credentials, OIDC issuers, IAM API keys, the key set, usage and the move off legacy tokens, through the gateway's admin API")
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addOption(new Option('--url <url>', `the gateway's URL (env EDGEGW_URL; default ${DEFAULT_URL}, the local stack)`))
    .addOption(new Option('--token <token>', "the admin credential: the gateway's ADMIN_TOKEN or an IAM key secret with IAMManager (env EDGEGW_ADMIN_TOKEN, then SCW_SECRET_KEY)"))
    .addOption(new Option('--json', 'print results as JSON, for scripts'))
    .addHelpText(
      'after',
      examples(
        'edgegw route add /app --target function:hello --jwt',
        'edgegw consumer add my-app',
        'edgegw jwt add my-app',
        'edgegw jwt ls my-app',
        'edgegw key rotate SCWXXXXXXXXXXXXXXXXX --overlap 7d',
        'edgegw status',
        'edgegw usage --kind legacy-jwt --since 7d',
        'edgegw migrate plan --out plan.json',
      ) +
        '\nExit status: 0 on success, 1 when the gateway refused or failed (its problem code and detail are shown), 2 on bad usage.\n' +
        'The local stack (npm start) prints the line that sets EDGEGW_URL and EDGEGW_ADMIN_TOKEN. Docs: docs/cli.md\n',
    )
  registerRoute(program, io)
  registerConsumer(program, io)
  registerJwt(program, io)
  registerOidc(program, io)
  registerKey(program, io)
  registerOperations(program, io)
  registerUsage(program, io)
  registerMigrate(program, io)
  return program
}
