/** Request bodies through valibot, failures as Scaleway `invalid_arguments`. */
import * as v from 'valibot'
import { type InvalidArgumentDetail, invalidArgument, invalidArguments } from './errors.js'

const FORMAT_CHECKS = new Set(['uuid', 'regex', 'email', 'iso_timestamp', 'url', 'integer', 'picklist', 'check'])
const CONSTRAINT_CHECKS = new Set(['min_length', 'max_length', 'length', 'min_value', 'max_value', 'max_items', 'min_items', 'value'])

/** Maps one valibot issue to an `invalid_arguments` detail. */
function detailOf(issue: v.BaseIssue<unknown>): InvalidArgumentDetail {
  const argumentName = (issue.path ?? []).map((item) => String(item.key)).join('.') || 'body'
  let reason: InvalidArgumentDetail['reason'] = 'unknown'
  if (issue.kind === 'schema') reason = issue.input === undefined ? 'required' : 'format'
  else if (CONSTRAINT_CHECKS.has(issue.type)) reason = 'constraint'
  else if (FORMAT_CHECKS.has(issue.type)) reason = 'format'
  return { argument_name: argumentName, help_message: issue.message, reason }
}

/**
 * Reads and validates a JSON body. An empty body counts as `{}` (the SDKs send
 * none for some calls).
 * @throws {ScalewayError} 400 `invalid_arguments` naming each field at fault.
 */
export async function parseBody<const TSchema extends v.GenericSchema>(request: Request, schema: TSchema): Promise<v.InferOutput<TSchema>> {
  const text = await request.text()
  let json: unknown = {}
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text)
    } catch {
      throw invalidArgument('body', 'format', 'the request body is not valid JSON')
    }
  }
  const result = v.safeParse(schema, json)
  if (!result.success) throw invalidArguments(result.issues.map(detailOf))
  return result.output
}

/** A UUID string. */
export const uuid = v.pipe(v.string(), v.uuid('must be a UUID'))

/** A resource name as IAM accepts it (1–64 of `a-zA-Z0-9()._- `). */
export const iamName = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(64, 'must be at most 64 characters'),
  v.regex(/^[a-zA-Z0-9()._\- ]+$/, 'may contain only letters, digits, spaces and ()._-'),
)

/** A description (at most 200 characters). */
export const description = v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))

/** Tags (at most 10). */
export const tags = v.pipe(v.array(v.string()), v.maxLength(10, 'at most 10 tags'))

/** An RFC 3339 instant, parsed to a Date. */
export const instant = v.pipe(
  v.string(),
  v.check((value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)), 'must be an RFC 3339 timestamp'),
  v.transform((value) => new Date(value)),
)
