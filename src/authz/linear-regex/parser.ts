/**
 * The parser of the RE2 syntax: a pattern to a small tree of character sets,
 * assertions, concatenations, alternations and counted repeats. Everything RE2 has
 * not, or this matcher does not implement, is refused here with a {@link LinearRegexError}.
 */

/** Why a pattern was refused. */
export type LinearRegexErrorCode =
  /** Not valid RE2 syntax: unbalanced parentheses, a bad escape, range or repeat count. */
  | 'regex_invalid'
  /** Valid in some dialect but not supported here: backreferences, lookarounds, `\p{…}`, possessive… */
  | 'regex_unsupported'
  /** Over `MAX_PROGRAM_SIZE` instructions or {@link MAX_NESTING} nested groups. */
  | 'regex_too_large'

/**
 * The error {@link compileLinearRegex} throws; `message` names the construct and its
 * offset in code points.
 *
 * @example
 * ```ts
 * try { compileLinearRegex('(a)\\1') } catch (err) {
 *   if (err instanceof LinearRegexError) err.code // 'regex_unsupported'
 * }
 * ```
 */
export class LinearRegexError extends Error {
  override readonly name = 'LinearRegexError'
  readonly code: LinearRegexErrorCode

  constructor(code: LinearRegexErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** The largest count `{n,m}` accepts (RE2's limit). */
export const MAX_REPEAT = 1000
/** The deepest nesting of groups (RE2's limit): bounds the compiler's recursion. */
export const MAX_NESTING = 1000

/** An empty-width test between two code points (-1 beyond the text). */
export type Assertion = 'bot' | 'eot' | 'bol' | 'eol' | 'word' | 'notWord'
/** A set of code points: inclusive `[lo, hi]` pairs, complemented when `negated` (after folding). */
export interface CharNode { op: 'char'; ranges: number[]; negated: boolean; fold: boolean }
export interface AssertNode { op: 'assert'; kind: Assertion }
/** The parsed pattern; `max` is -1 for an unbounded repeat. */
export type Node = CharNode | AssertNode | { op: 'cat' | 'alt'; subs: Node[] } | { op: 'repeat'; sub: Node; min: number; max: number }
interface Flags { i: boolean; m: boolean; s: boolean }

const pairs = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0))
// RE2's Perl classes and POSIX classes are ASCII; each string lists its [lo, hi] pairs.
const PERL: Record<string, string> = { d: '09', s: '\t\n\f\r  ', w: '09AZ__az' }
const POSIX: Record<string, string> = {
  alnum: '09AZaz', alpha: 'AZaz', ascii: '\0\x7f', blank: '\t\t  ', cntrl: '\0\x1f\x7f\x7f', digit: '09', graph: '!~',
  lower: 'az', print: ' ~', punct: '!/:@[`{~', space: '\t\r  ', upper: 'AZ', word: '09AZ__az', xdigit: '09AFaf',
}
const ESCAPES: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, v: 11, r: 13 }

function complement(ranges: number[]): number[] {
  const sorted: [number, number][] = []
  for (let k = 0; k < ranges.length; k += 2) sorted.push([ranges[k]!, ranges[k + 1]!])
  sorted.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  let next = 0
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push(next, lo - 1)
    next = Math.max(next, hi + 1)
  }
  if (next <= 0x10ffff) out.push(next, 0x10ffff)
  return out
}

/**
 * The upper or lower case of `c` when it is one code point, else `c`: with the variants
 * of those variants, the Unicode simple case folding RE2 uses. Dotless ı is left alone:
 * its upper case is I, but Unicode does not fold it with I and i.
 */
export function caseOf(c: number, upper: boolean): number {
  const s = String.fromCodePoint(c)
  const t = upper ? s.toUpperCase() : s.toLowerCase()
  const d = t.codePointAt(0)!
  return c !== 0x131 && t.length === (d > 0xffff ? 2 : 1) ? d : c
}

function charNode(ranges: number[], negated: boolean, fold: boolean): CharNode {
  // Case-insensitive: the pattern's single characters gain their case variants here
  // (ϑ: Θ, then θ), the input character's are tried at match time (covers ranges too).
  if (fold) for (let k = 0, n = ranges.length; k < n; k += 2) {
    const c = ranges[k]!
    if (c !== ranges[k + 1]) continue
    const lower = caseOf(c, false)
    const upper = caseOf(c, true)
    for (const d of [lower, upper, caseOf(lower, true), caseOf(upper, false)]) if (d !== c) ranges.push(d, d)
  }
  return { op: 'char', ranges, negated, fold }
}

/** Parses `pattern` (RE2 syntax). @throws {LinearRegexError} */
export function parse(pattern: string): Node {
  const p = Array.from(pattern)
  let i = 0
  const at = (k = i): string => p[k] ?? ''
  const fail = (code: LinearRegexErrorCode, what: string, offset = i): never => {
    throw new LinearRegexError(code, `${what} (at character ${offset} of the pattern)`)
  }
  const isDigit = (c: string) => c >= '0' && c <= '9'

  // `{n}`, `{n,}`, `{n,m}`; anything else (`{`, `{,5}`, `{01}`) is a literal `{`, as in RE2.
  const repeatCount = (): [number, number] | undefined => {
    const start = i++
    const num = (): number => {
      const from = i
      while (isDigit(at())) i++
      return i === from || (at(from) === '0' && i > from + 1) ? NaN : Number(p.slice(from, i).join(''))
    }
    const min = num()
    let max = min
    if (at() === ',') max = at(++i) === '}' ? -1 : num()
    if (at() !== '}' || Number.isNaN(min + max)) return void (i = start)
    i++
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) fail('regex_invalid', `invalid repeat count ${p.slice(start, i).join('')} (at most ${MAX_REPEAT})`, start)
    return [min, max]
  }

  const quantifier = (): [number, number] | undefined => {
    const c = at()
    if (c === '{') return repeatCount()
    const q = ({ '*': [0, -1], '+': [1, -1], '?': [0, 1] } as Record<string, [number, number]>)[c]
    if (q) i++
    return q
  }

  /** After `\`: a code point, a class (`\d`…) or, outside a class, an assertion. */
  const escape = (inClass: boolean): number | Node => {
    const start = i - 1
    const c = p[i++]
    if (c === undefined) return fail('regex_invalid', 'trailing backslash', start)
    const perl = PERL[c.toLowerCase()]
    if (perl) return { op: 'char', ranges: pairs(perl), negated: c !== c.toLowerCase(), fold: false }
    const kind = ({ A: 'bot', z: 'eot', b: 'word', B: 'notWord' } as Record<string, Assertion>)[c]
    if (kind && !inClass) return { op: 'assert', kind }
    if (ESCAPES[c]) return ESCAPES[c]
    if (c === 'x') {
      const braced = at() === '{'
      const from = braced ? ++i : i
      while (/[0-9a-fA-F]/.test(at()) && (braced || i < from + 2)) i++
      const value = parseInt(p.slice(from, i).join(''), 16)
      if ((braced ? at(i++) !== '}' : i !== from + 2) || !(value <= 0x10ffff)) fail('regex_invalid', 'invalid hexadecimal escape (\\xHH or \\x{H…} up to 10FFFF)', start)
      return value
    }
    if (c === '0') {
      const from = i
      while (/[0-7]/.test(at()) && i < from + 2) i++
      return parseInt(`0${p.slice(from, i).join('')}`, 8)
    }
    if (isDigit(c)) return fail('regex_unsupported', `backreference \\${c} is not supported (RE2 has no backreferences)`, start)
    if (c === 'p' || c === 'P') return fail('regex_unsupported', `Unicode class \\${c} is not supported; use a class such as [a-z]`, start)
    if (/[A-Za-z]/.test(c)) return fail('regex_unsupported', `escape \\${c} is not supported${inClass ? ' in a class' : ''}`, start)
    if (c < '\x80') return c.charCodeAt(0)
    return fail('regex_invalid', `invalid escape \\${c}`, start)
  }

  const charClass = (fold: boolean): Node => {
    const start = i - 1
    const ranges: number[] = []
    const negated = at() === '^'
    if (negated) i++
    // One code point, or undefined when a whole class (`\d`) was added.
    const item = (): number | undefined => {
      const c = p[i++]!
      if (c !== '\\') return c.codePointAt(0)
      const e = escape(true)
      if (typeof e === 'number') return e
      const set = e as CharNode
      ranges.push(...(set.negated ? complement(set.ranges) : set.ranges))
    }
    // A `]` right after `[` or `[^` is a literal, as in RE2.
    for (let first = true; first || at() !== ']'; first = false) {
      if (i >= p.length) fail('regex_invalid', 'missing ] to close a class', start)
      const posix = /^\[:(\^?)([A-Za-z]+):\]/.exec(p.slice(i, i + 16).join(''))
      if (posix) {
        const set = POSIX[posix[2]!]
        if (!set) fail('regex_invalid', `unknown class [:${posix[2]}:]`)
        ranges.push(...(posix[1] ? complement(pairs(set!)) : pairs(set!)))
        i += posix[0].length
        continue
      }
      const lo = item()
      if (lo === undefined) continue
      let hi = lo
      if (at() === '-' && at(i + 1) !== ']' && i + 1 < p.length) {
        const dash = i++
        const end = item()
        if (end === undefined || end < lo) fail('regex_invalid', 'invalid class range', dash)
        hi = end!
      }
      ranges.push(lo, hi)
    }
    i++
    return charNode(ranges, negated, fold)
  }

  /** After `(`; undefined for a flag group `(?i)`, whose flags then hold until the enclosing `)`. */
  const group = (flags: Flags, depth: number): Node | undefined => {
    const start = i - 1
    if (depth >= MAX_NESTING) fail('regex_too_large', `groups nested deeper than ${MAX_NESTING}`, start)
    const inner = { ...flags }
    if (at() === '?') {
      const rest = p.slice(++i, i + 3).join('')
      if (/^(=|!|<=|<!)/.test(rest)) fail('regex_unsupported', `lookaround (?${rest.slice(0, rest[0] === '<' ? 2 : 1)} is not supported (RE2 has no lookarounds)`, start)
      if (/^P?</.test(rest)) {
        // A named group (`(?P<name>…)` or `(?<name>…)`): a plain group for a boolean match.
        const name = /^P?<(\w+)>/.exec(p.slice(i, i + 40).join(''))
        if (!name) fail('regex_invalid', 'invalid named group', start)
        i += name![0].length
      } else {
        let on = true
        let flag = false
        for (;;) {
          const c = at(i++)
          if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
            if (c !== 'U') inner[c] = on // `U` (ungreedy) changes nothing for a boolean match.
            flag = true
          } else if (c === '-' && on) {
            on = false
            flag = false
          } else if ((c === ')' || c === ':') && (on || flag)) {
            if (c === ':') break
            Object.assign(flags, inner)
            return undefined
          } else if (c === '' || c === ')' || c === ':') {
            fail('regex_invalid', `invalid flags (?${p.slice(start + 2, i).join('')}`, start)
          } else {
            fail('regex_unsupported', `group or flag (?${p.slice(start + 2, i).join('')} is not supported; RE2 has (?:…), (?P<name>…) and the flags i, m, s, U`, start)
          }
        }
      }
    }
    const node = alternation(inner, depth + 1)
    if (at(i++) !== ')') fail('regex_invalid', 'missing ) to close a group', start)
    return node
  }

  const atom = (flags: Flags, depth: number): Node | undefined => {
    const c = p[i++]!
    switch (c) {
      case '(': return group(flags, depth)
      case '[': return charClass(flags.i)
      case '.': return charNode(flags.s ? [] : [10, 10], true, false)
      case '^': return { op: 'assert', kind: flags.m ? 'bol' : 'bot' }
      case '$': return { op: 'assert', kind: flags.m ? 'eol' : 'eot' }
      case '\\': {
        const e = escape(false)
        return typeof e === 'number' ? charNode([e, e], false, flags.i) : e
      }
      case '*': case '+': case '?': return fail('regex_invalid', `missing argument to repetition operator ${c}`, i - 1)
      case '{': {
        const start = --i
        if (repeatCount()) fail('regex_invalid', 'missing argument to repetition operator {', start)
        i++
      }
    }
    const cp = c.codePointAt(0)!
    return charNode([cp, cp], false, flags.i)
  }

  const concatenation = (flags: Flags, depth: number): Node => {
    const subs: Node[] = []
    while (i < p.length && at() !== '|' && at() !== ')') {
      let node = atom(flags, depth)
      // RE2 refuses a repeated repetition (`a**`, `a{2}{3}`); `(a*)*` is fine.
      for (let previous = -1; ; ) {
        const start = i
        const q = quantifier()
        if (!q) break
        if (!node) fail('regex_invalid', 'missing argument to repetition operator', start)
        if (previous >= 0) fail('regex_invalid', `nested repetition operator ${p.slice(previous, i).join('')}`, previous)
        previous = start
        if (at() === '?') i++ // Lazy: the same boolean answer.
        if (at() === '+') fail('regex_unsupported', `possessive quantifier ${p.slice(start, i + 1).join('')} is not supported`, start)
        node = { op: 'repeat', sub: node!, min: q[0], max: q[1] }
      }
      if (node) subs.push(node)
    }
    return subs.length === 1 ? subs[0]! : { op: 'cat', subs }
  }

  const alternation = (flags: Flags, depth: number): Node => {
    const subs = [concatenation(flags, depth)]
    while (at() === '|') {
      i++
      subs.push(concatenation(flags, depth))
    }
    return subs.length === 1 ? subs[0]! : { op: 'alt', subs }
  }

  const root = alternation({ i: false, m: false, s: false }, 0)
  if (i < p.length) fail('regex_invalid', 'unmatched )')
  return root
}
