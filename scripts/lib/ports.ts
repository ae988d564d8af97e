/** Port checks of the local stack, with messages that say which variable to change. */
import { createServer } from 'node:net'

/** Why the stack could not start, with a message written for the person running it. */
export class StackError extends Error {
  override readonly name = 'StackError'
  constructor(
    readonly code: 'port_in_use' | 'port_forbidden' | 'env_invalid' | 'state_incomplete' | 'seed_failed',
    message: string,
  ) {
    super(message)
  }
}

/** A port of the stack, named for messages. */
export interface PortSpec {
  port: number
  /** e.g. `gateway`. */
  what: string
  /** The variable that changes it, e.g. `EDGEGW_GATEWAY_PORT`. */
  envVar: string
}

/**
 * Fails early, and clearly, when a fixed port is already taken (port 0 always passes).
 * @throws {StackError} `port_in_use` or `port_forbidden`.
 */
export async function assertPortFree(spec: PortSpec): Promise<void> {
  if (spec.port === 0) return
  await new Promise<void>((done, fail) => {
    const server = createServer()
    server.once('error', (error) => fail(portError(error, spec)))
    server.listen(spec.port, '127.0.0.1', () => server.close(() => done()))
  })
}

/** Turns a listen error into a {@link StackError}; any other error is returned as it is. */
export function portError(error: unknown, spec: PortSpec): unknown {
  const code = (error as { code?: string } | undefined)?.code
  if (code === 'EADDRINUSE' || code === 'ERR_ADDRESS_IN_USE') {
    return new StackError('port_in_use', `Port ${spec.port} (${spec.what}) is already in use on 127.0.0.1. Stop whatever listens there, or choose another port: ${spec.envVar}=<port> npm start`)
  }
  if (code === 'EACCES') return new StackError('port_forbidden', `Port ${spec.port} (${spec.what}) may not be opened by this user; choose another port: ${spec.envVar}=<port> npm start`)
  return error
}
