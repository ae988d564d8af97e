/**
 * Rule conditions (IAM "advanced access control"): a CEL expression kept as
 * sent. The IAM API refuses one over 2048 characters (`RuleSpecs.condition`
 * in the SDKs' validation rules) and one that is not a CEL expression; the
 * emulator parses with the CEL library the gateway evaluates with. An empty
 * condition is no condition.
 */
import { parse } from '@marcbachmann/cel-js'
import type { InvalidArgumentDetail } from '../http/errors.js'

/** Longest condition the IAM API accepts, in characters (Unicode code points). */
export const CONDITION_MAX_CHARACTERS = 2048

/**
 * What is wrong with a condition, as an `invalid_arguments` detail, or
 * `undefined` when the IAM API would store it (the empty string included).
 * Only the syntax is checked: an expression that names unknown variables or
 * functions parses, and is stored.
 * @param argumentName Where the condition sits in the body (`rules.0.condition`).
 */
export function conditionProblem(condition: string, argumentName: string): InvalidArgumentDetail | undefined {
  if (condition === '') return undefined
  const characters = [...condition]
  if (characters.length > CONDITION_MAX_CHARACTERS) {
    return { argument_name: argumentName, reason: 'constraint', help_message: `must be at most ${CONDITION_MAX_CHARACTERS} characters` }
  }
  try {
    parse(condition)
    return undefined
  } catch (error) {
    const { summary, range } = error as { summary?: unknown; range?: { start: number } }
    const reason = typeof summary === 'string' ? summary : 'not a CEL expression'
    // The parser counts UTF-16 units; the answer counts characters.
    const at = range ? ` (at offset ${[...condition.slice(0, range.start)].length})` : ''
    return { argument_name: argumentName, reason: 'format', help_message: `condition does not parse: ${reason}${at}` }
  }
}
