/**
 * IAM rule conditions (CEL), evaluated at the edge on the request the gateway
 * received: Scaleway evaluates them on the request *it* receives, which, behind a
 * gateway, carries the gateway's IP and user agent, never the end user's.
 *
 * The CEL library is `@marcbachmann/cel-js` (zero dependencies, about 24 KB gzip,
 * time zones through `Intl`); `@bufbuild/cel` was about 68 KB gzip, beyond the
 * Worker's budget. Its `matches()` uses a backtracking `RegExp`, so every
 * `matches` call is rewritten, when the condition is compiled, to this project's
 * linear-time matcher (RE2 semantics, as CEL specifies): the pattern is the
 * operator's, the user agent is the attacker's. Its time-zone getters build a
 * formatter per call (about 130 µs), so those are rewritten to getters that keep
 * one per zone (`zoned-time.ts`).
 */
import { Environment } from '@marcbachmann/cel-js'
import { compileLinearRegex, type LinearRegex } from './linear-regex/index.js'
import { inIpRange } from './ip-range.js'
import { ZONED_GETTERS, zonedFields } from './zoned-time.js'
import { BoundedMap } from '../util/bounded-map.js'

/** Scaleway refuses longer conditions; so does the gateway. */
export const MAX_CONDITION_LENGTH = 2048
/** Scaleway truncates the user agent it exposes to conditions at 255 characters. */
export const MAX_USER_AGENT_LENGTH = 255

/** What a condition sees of the request (`request.*`). */
export interface ConditionRequest {
  /** The end user's IP address, as the gateway determined it (never a client header unless configured). */
  ip: string
  /** The `User-Agent` header, truncated at {@link MAX_USER_AGENT_LENGTH} characters. */
  userAgent: string
  /** When the gateway received the request. */
  time: Date
}

/** What a condition sees of the target (`resource.*`), an extension beyond Scaleway's serverless conditions. */
export interface ConditionResource {
  /** The function's or container's id ("" when the route targets a whole namespace). */
  id: string
  name: string
  namespaceId: string
  /** The namespace's name ("" when the sync has not seen it). */
  namespaceName: string
  kind: 'function' | 'container'
  projectId: string
  region: string
}

/** A condition, parsed and type-checked once: evaluate it per request. */
export type CompiledCondition = (request: ConditionRequest, resource: ConditionResource) => boolean

/** Why a condition was refused when it was compiled. */
export class ConditionError extends Error {
  override readonly name = 'ConditionError'
}

const LIMITS = { maxAstNodes: 2_000, maxDepth: 64, maxListElements: 1_000, maxMapEntries: 100, maxCallArguments: 8 }

/** Compiled patterns of non-literal `matches()` arguments, bounded (literal ones are compiled with the condition). */
const dynamicPatterns = new BoundedMap<string, LinearRegex>(256)

function linearMatch(input: string, pattern: string): boolean {
  const regex = dynamicPatterns.get(pattern) ?? dynamicPatterns.set(pattern, compileLinearRegex(pattern))
  return regex.test(input)
}

const LINEAR_MATCHES = 'edgegwLinearMatches'
const ZONED_PREFIX = 'edgegwZoned_'
const TIMESTAMP = 'google.protobuf.Timestamp'

let environment = new Environment({ limits: LIMITS })
  .registerVariable({ name: 'request', schema: { ip: 'string', user_agent: 'string', time: 'google.protobuf.Timestamp' } })
  .registerVariable({
    name: 'resource',
    schema: { id: 'string', name: 'string', namespace_id: 'string', namespace_name: 'string', kind: 'string', project_id: 'string', region: 'string', locality: 'string' },
  })
  .registerFunction('inIpRange(string, string): bool', inIpRange)
  .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, linearMatch)
  .registerFunction(`${LINEAR_MATCHES}(string, string): bool`, linearMatch)
for (const [getter, read] of Object.entries(ZONED_GETTERS)) {
  environment = environment.registerFunction(`${TIMESTAMP}.${ZONED_PREFIX}${getter}(string): int`, (instant: Date, timeZone: string) => BigInt(read(zonedFields(instant, timeZone))))
}

interface AstNode {
  op: string
  args: unknown
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value
}

/**
 * Points every `matches` call at the linear-time matcher, and compiles its
 * pattern now when it is a literal, so a pattern the matcher refuses is a
 * compile error (a warning at sync), not a per-request failure; points every
 * time-zone getter (`x.getHours(zone)`) at the one that keeps its formatter. The
 * type-check that follows still checks every call against its declaration.
 */
function rewriteCalls(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(rewriteCalls)
  if (!isNode(node)) return
  const args = node.args
  if ((node.op === 'rcall' || node.op === 'call') && Array.isArray(args)) {
    const callArgs = (node.op === 'rcall' ? args[2] : args[1]) as unknown[]
    if (args[0] === 'matches') {
      args[0] = LINEAR_MATCHES
      const pattern = callArgs[callArgs.length - 1]
      if (isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string') linearMatch('', pattern.args)
    } else if (node.op === 'rcall' && callArgs.length === 1 && typeof args[0] === 'string' && Object.hasOwn(ZONED_GETTERS, args[0])) {
      args[0] = `${ZONED_PREFIX}${args[0]}`
    }
  }
  if (Array.isArray(args)) args.forEach(rewriteCalls)
}

/**
 * Parses and type-checks a condition. An empty condition is none: it returns `undefined`.
 *
 * @throws {ConditionError} when the condition is too long, does not parse, does not
 *   type-check as a `bool`, or uses a regular expression the linear-time matcher refuses.
 * @example
 * ```ts
 * const officeHours = compileCondition('request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18')
 * officeHours?.({ ip: '192.0.2.1', userAgent: 'curl/8', time: new Date() }, resource)
 * ```
 */
export function compileCondition(source: string): CompiledCondition | undefined {
  if (source.trim() === '') return undefined
  if (source.length > MAX_CONDITION_LENGTH) throw new ConditionError(`the condition is longer than ${MAX_CONDITION_LENGTH} characters`)
  let parsed: ReturnType<typeof environment.parse>
  try {
    parsed = environment.parse(source)
    rewriteCalls(parsed.ast)
  } catch (cause) {
    throw new ConditionError(`the condition does not parse: ${firstLine(cause)}`, { cause })
  }
  const checked = parsed.check()
  if (!checked.valid) throw new ConditionError(`the condition does not type-check: ${firstLine(checked.error)}`, { cause: checked.error })
  if (checked.type !== 'bool') throw new ConditionError(`the condition is of type ${checked.type}, not bool`)
  return (request, resource) => {
    try {
      const value = parsed({
        request: { ip: request.ip, user_agent: request.userAgent.slice(0, MAX_USER_AGENT_LENGTH), time: request.time },
        resource: {
          id: resource.id,
          name: resource.name,
          namespace_id: resource.namespaceId,
          namespace_name: resource.namespaceName,
          kind: resource.kind,
          project_id: resource.projectId,
          region: resource.region,
          locality: resource.region,
        },
      })
      return value === true
    } catch {
      // An evaluation error (an unknown time zone, a bad CIDR, an unsupported pattern) denies: fail closed.
      return false
    }
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  // Name the functions as the policy author wrote them, not as they were rewritten.
  return message.split('\n', 1)[0]!.replaceAll(ZONED_PREFIX, '').replaceAll(LINEAR_MATCHES, 'matches').slice(0, 200)
}
