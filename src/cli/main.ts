/**
 * `edgegw`, the operator's command line of edge-auth-gateway (docs/cli.md).
 * It talks to the gateway's admin API over HTTP; `migrate plan|apply|finish`
 * also call Scaleway's IAM and serverless APIs (SCW_* settings).
 *
 * Exit status: 0 on success; 1 when the gateway refused or failed (the
 * problem's `code` and `detail` on stderr); 2 on bad usage.
 */
import { CommanderError } from 'commander'
import { EXIT, GatewayError, UsageError } from './lib/errors.js'
import type { Io } from './lib/output.js'
import { buildProgram } from './program.js'

/** The process's own streams, environment and clock. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, now: Date.now }
}

/**
 * Runs one command line (without `node` and the script) and resolves to its
 * exit status; it never calls `process.exit`.
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2))
 * ```
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exit code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (error instanceof UsageError) {
      io.stderr.write(`edgegw: ${error.message}\n(see edgegw --help)\n`)
      return EXIT.usage
    }
    if (error instanceof GatewayError) {
      io.stderr.write(`edgegw: ${error.code}: ${error.detail}\n`)
      return EXIT.failed
    }
    // An unexpected failure: the message only (a stack trace could quote a request with the token).
    io.stderr.write(`edgegw: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
    return EXIT.failed
  }
}
