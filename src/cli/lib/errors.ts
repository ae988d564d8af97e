/**
 * The two ways a command fails, and the exit code each means: 2 for a command
 * line that cannot work (bad usage, a missing setting), 1 for a gateway that
 * refused or failed. Messages never carry a secret: not the admin token, not a
 * secret a command printed or read.
 */

/** Exit codes of `edgegw`. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** A command line that cannot work as given (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * The gateway refused or failed (exit 1): `code` is the problem's stable code
 * (`consumer_not_found`, `precondition_failed`…), or `unreachable` /
 * `invalid_response` when no problem came back; `detail` is the problem's.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  constructor(
    /** HTTP status; 0 when the gateway could not be reached. */
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** The parsed error body, when it was JSON (a failed sync's outcome). */
    readonly body?: unknown,
  ) {
    super(`${code}: ${detail}`)
  }
}
