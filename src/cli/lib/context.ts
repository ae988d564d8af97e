/**
 * What every command starts from: where the gateway is, the credential to use,
 * the output mode, and a client of the admin API built from them.
 */
import type { Command } from 'commander'
import { AdminClient } from './admin-client.js'
import { UsageError } from './errors.js'
import { Output, type Io } from './output.js'

/** The local stack's gateway (`npm start`). */
export const DEFAULT_URL = 'http://127.0.0.1:8787'

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  url?: string
  token?: string
  json?: boolean
}

/** Where the admin token came from, for `doctor` (never the token itself). */
export type TokenSource = '--token' | 'EDGEGW_ADMIN_TOKEN' | 'SCW_SECRET_KEY'

/** A resolved connection. */
export interface Connection {
  url: string
  urlSource: '--url' | 'EDGEGW_URL' | 'default'
  token: string
  tokenSource: TokenSource
}

/**
 * Resolves the gateway URL (`--url`, `EDGEGW_URL`, the local stack) and the
 * admin credential (`--token`, `EDGEGW_ADMIN_TOKEN`, then `SCW_SECRET_KEY`: an
 * IAM key secret with `IAMManager` works where the bootstrap token does).
 * @throws {UsageError} when no credential is set.
 */
export function resolveConnection(options: GlobalOptions, env: Record<string, string | undefined>): Connection {
  const url = options.url ? { url: options.url, urlSource: '--url' as const } : env.EDGEGW_URL ? { url: env.EDGEGW_URL, urlSource: 'EDGEGW_URL' as const } : { url: DEFAULT_URL, urlSource: 'default' as const }
  const token = options.token
    ? { token: options.token, tokenSource: '--token' as const }
    : env.EDGEGW_ADMIN_TOKEN
      ? { token: env.EDGEGW_ADMIN_TOKEN, tokenSource: 'EDGEGW_ADMIN_TOKEN' as const }
      : env.SCW_SECRET_KEY
        ? { token: env.SCW_SECRET_KEY, tokenSource: 'SCW_SECRET_KEY' as const }
        : undefined
  if (!token) {
    throw new UsageError('no admin credential: pass --token, or set EDGEGW_ADMIN_TOKEN (the gateway\'s ADMIN_TOKEN) or SCW_SECRET_KEY (an IAM key with IAMManager); `npm start` prints the line that sets them')
  }
  return { ...url, ...token }
}

/** What a command's action works with. */
export interface CommandContext {
  out: Output
  io: Io
  connection: Connection
  client: AdminClient
}

/** Builds the context of a command from its options and the global ones. */
export function contextOf(command: Command, io: Io): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  const out = new Output(io, options.json === true)
  const connection = resolveConnection(options, io.env)
  let client: AdminClient
  try {
    client = new AdminClient({ url: connection.url, token: connection.token })
  } catch (error) {
    throw new UsageError(`${connection.urlSource}: ${(error as Error).message}`)
  }
  return { out, io, connection, client }
}
