/**
 * A linear-time matcher for the RE2 syntax of CEL's `string.matches(pattern)`.
 *
 * CEL specifies RE2 semantics; a backtracking engine (JS `RegExp`) lets a crafted
 * input (the user agent is the caller's) run for minutes on a pattern such as
 * `^(a+)+$`. Here a pattern compiles to a Thompson NFA run as a Pike VM: the cost is
 * O(pattern × input) whatever both are. What RE2 has not, or this matcher does not
 * implement, is refused at compile time (docs/conditions.md).
 */
import { parse } from './parser.js'
import { compile, run } from './vm.js'

export { LinearRegexError, MAX_NESTING, MAX_REPEAT, type LinearRegexErrorCode } from './parser.js'
export { MAX_PROGRAM_SIZE } from './vm.js'

/** A compiled pattern; `test` runs in O(pattern × input) time, never backtracks. */
export interface LinearRegex {
  /** True when some substring of `input` matches (CEL `matches`: unanchored unless `^`/`$`). */
  test(input: string): boolean
}

/**
 * Compiles an RE2-syntax pattern for CEL `matches`: literals and escapes (`\.`,
 * `\x41`, `\x{263a}`, `\t`…), `.`, classes (`[a-z]`, `[^…]`, `\d \w \s` and their
 * negations, `[[:alpha:]]`), `^ $ \A \z \b \B`, groups (capturing, `(?:…)`, named),
 * `|`, `* + ? {n} {n,} {n,m}` and their lazy forms (counts up to 1000), and the flags
 * `i` `m` `s` `U` (`(?i)`, `(?i:…)`, `(?-i)`). Matching is over code points.
 *
 * @throws {LinearRegexError} `regex_invalid` (malformed), `regex_unsupported`
 *   (backreferences, lookarounds, `\p{…}`, possessive or atomic groups…) or
 *   `regex_too_large` (over `MAX_PROGRAM_SIZE` instructions).
 * @example
 * ```ts
 * const bot = compileLinearRegex('(?i)bot|crawler')
 * bot.test('Mozilla/5.0 (compatible; Googlebot/2.1)') // true
 * ```
 */
export function compileLinearRegex(pattern: string): LinearRegex {
  const program = compile(parse(pattern))
  return { test: (input) => run(program, input) }
}
