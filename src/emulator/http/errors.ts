/**
 * Scaleway's error bodies, as the API gateway and the IAM API answer them
 * (shapes read from scaleway-sdk-js `scw/errors/standard/*` and the Go SDK's
 * `scw/errors.go`; keys in alphabetical order, as the platform sends them).
 */

/** One entry of an `invalid_arguments` body. */
export interface InvalidArgumentDetail {
  argument_name: string
  /** `required`, `format`, `constraint` or `unknown`, as the SDKs know them. */
  reason: 'required' | 'format' | 'constraint' | 'unknown'
  help_message: string
}

/** Why an authentication was denied (`denied_authentication.reason`). */
export type DeniedReason = 'invalid_argument' | 'not_found' | 'expired'

/**
 * An error that is already a Scaleway-shaped HTTP answer. Route handlers throw
 * it; the app's error handler turns it into the response.
 */
export class ScalewayError extends Error {
  /** The HTTP status. */
  readonly status: number
  /** The JSON body, exactly as sent. */
  readonly body: Record<string, unknown>

  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.message === 'string' ? body.message : `http error ${status}`)
    this.name = 'ScalewayError'
    this.status = status
    this.body = body
  }

  /** The wire response. */
  toResponse(): Response {
    return Response.json(this.body, { status: this.status })
  }
}

/** 404 in the IAM API's shape: `{message, resource, resource_id, type: "not_found"}`. */
export function notFound(resource: string, resourceId: string): ScalewayError {
  return new ScalewayError(404, { message: 'resource is not found', resource, resource_id: resourceId, type: 'not_found' })
}

/**
 * 404 in the serverless APIs' shape, which is only a message
 * (`{"message":"Namespace was not found"}`, recorded from the live API).
 */
export function serverlessNotFound(what: 'Namespace' | 'Function' | 'Container' | 'Token'): ScalewayError {
  return new ScalewayError(404, { message: `${what} was not found` })
}

/** 400 `invalid_arguments` with one entry per argument at fault. */
export function invalidArguments(details: InvalidArgumentDetail[]): ScalewayError {
  return new ScalewayError(400, { details, message: 'invalid argument(s)', type: 'invalid_arguments' })
}

/** 400 for one argument. */
export function invalidArgument(argumentName: string, reason: InvalidArgumentDetail['reason'], helpMessage: string): ScalewayError {
  return invalidArguments([{ argument_name: argumentName, help_message: helpMessage, reason }])
}

/** 401 `denied_authentication`, as the API gateway answers a missing, unknown or expired key. */
export function deniedAuthentication(reason: DeniedReason): ScalewayError {
  return new ScalewayError(401, { message: 'authentication is denied', method: 'api_key', reason, type: 'denied_authentication' })
}

/** 403 `permissions_denied`: authenticated, but no rule grants the action. */
export function permissionsDenied(action: 'read' | 'write' | 'delete', resource: string): ScalewayError {
  return new ScalewayError(403, { details: [{ action, resource }], message: 'insufficient permissions', type: 'permissions_denied' })
}

/** 409 `already_exists` (e.g. a group name is unique in its Organization). */
export function alreadyExists(resource: string, resourceId: string, helpMessage: string): ScalewayError {
  return new ScalewayError(409, { help_message: helpMessage, message: 'resource already exists', resource, resource_id: resourceId, type: 'already_exists' })
}
