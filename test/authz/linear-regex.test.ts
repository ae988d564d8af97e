import { describe, expect, it } from 'vitest'
import { compileLinearRegex, LinearRegexError, MAX_PROGRAM_SIZE, type LinearRegexErrorCode } from '../../src/authz/linear-regex/index.js'

const matches = (pattern: string, input: string) => compileLinearRegex(pattern).test(input)

describe('compileLinearRegex: the same answer as JS RegExp where both have the syntax', () => {
  // [pattern (RE2), input, the JS equivalent when it differs: [source, extra flags]]
  it.each<[string, string, [string, string]?]>([
    ['abc', 'xxabcxx'],
    ['abc', 'ab'],
    ['', 'anything'],
    ['^abc', 'abcd'],
    ['^abc', 'xabc'],
    ['abc$', 'xabc'],
    ['abc$', 'abcx'],
    ['^$', ''],
    ['^$', 'a'],
    ['a.c', 'abc'],
    ['a.c', 'a\nc'],
    ['a\\.c', 'abc'],
    ['a\\.c', 'a.c'],
    ['a\\/b\\\\c', 'a/b\\c'],
    ['[a-z]+[0-9]', 'abc1'],
    ['^[a-z0-9_]+$', 'user_01'],
    ['^[a-z0-9_]+$', 'user-01'],
    ['[^a-z]', 'abc'],
    ['[^a-z]', 'abc!'],
    ['^[\\d\\-]+$', '12-3'],
    ['^[\\w.]+$', 'a.b_c'],
    ['\\W', 'abc_'],
    ['\\D', '123'],
    ['\\S', ' \t '],
    ['[^\\d]', '123a'],
    ['[\\x41-\\x43]+$', 'xABC'],
    ['\\x41\\x{263a}', 'A☺', ['\\x41\\u{263a}', '']],
    ['\\t\\n\\r', 'a\t\n\rb'],
    ['cat|dog', 'hotdog'],
    ['^(cat|dog)$', 'cats'],
    ['^(?:cat|dog)s?$', 'dogs'],
    ['a(b|c)*d', 'abcbcd'],
    ['a(b|c)*d', 'abxd'],
    ['(|a)b', 'b'],
    ['^a{3}$', 'aaa'],
    ['^a{3}$', 'aaaa'],
    ['^a{2,}$', 'a'],
    ['^a{2,}$', 'aaaaa'],
    ['^a{2,4}$', 'aaaaa'],
    ['^a{0,2}$', ''],
    ['^(ab){1,2}$', 'abab'],
    ['^(ab){1,2}c', 'abababc'],
    ['^a{0}b', 'b'],
    ['^(a|bc){2,3}$', 'bcabc'],
    ['^a*?$', 'aaa'],
    ['^a+?b', 'aab'],
    ['a??b', 'b'],
    ['^a{2,3}?$', 'aaa'],
    ['\\bfoo\\b', 'a foo.'],
    ['\\bfoo\\b', 'foobar'],
    ['\\Bfoo', 'afoo'],
    ['\\Bfoo', 'a foo'],
    ['^Mozilla/5\\.0 \\(', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['curl/\\d+\\.\\d+', 'curl/8.4.0'],
    ['^10\\.0\\.\\d{1,3}\\.\\d{1,3}$', '10.0.12.7'],
    ['^10\\.0\\.\\d{1,3}\\.\\d{1,3}$', '10.0.1234.7'],
    ['(?i)hello', 'HeLLo', ['hello', 'i']],
    ['(?i)^[a-c]+$', 'AbC', ['^[a-c]+$', 'i']],
    ['(?i)[^a]', 'A', ['[^a]', 'i']],
    ['(?i)bot|crawler', 'Mozilla/5.0 (compatible; GoogleBot/2.1)', ['bot|crawler', 'i']],
    ['(?i)é', 'É', ['é', 'i']],
    ['(?i)k', '\u212a', ['k', 'i']],
    ['(?i)\u212a', 'k', ['\u212a', 'i']],
    ['(?i)s', 'ſ', ['s', 'i']],
    ['(?i)i', 'ı', ['i', 'i']],
    ['(?i)ϑ', 'ϴ', ['ϑ', 'i']],
    ['(?i)σ', 'ς', ['σ', 'i']],
    ['(?i)[a-z]', '\u212a', ['[a-z]', 'i']],
    ['(?i)[^a-z]', 'ſ', ['[^a-z]', 'i']],
    ['(?i)[^k]', '\u212a', ['[^k]', 'i']],
    ['(?i)straße', 'STRASSE', ['straße', 'i']],
    ['(?i)straße', 'STRAẞE', ['straße', 'i']],
    ['(?s)a.b', 'a\nb', ['a.b', 's']],
    ['^.{3}$', '😀🎉👍'],
    ['^[😀-😂]+$', '😁😂'],
    ['\ud83d', '😀'],
  ])('%j on %j', (pattern, input, js) => {
    const [source, flags] = js ?? [pattern, '']
    expect(matches(pattern, input)).toBe(new RegExp(source, `u${flags}`).test(input))
  })
})

describe('compileLinearRegex: RE2 semantics JS RegExp does not share', () => {
  it.each<[string, string, boolean]>([
    ['\\Aabc', 'abc', true],
    ['\\Aabc', 'xabc', false],
    ['abc\\z', 'abc', true],
    ['abc\\z', 'abc\n', false],
    ['abc$', 'abc\n', false],
    ['^b$', 'a\nb\nc', false],
    ['(?m)^b$', 'a\nb\nc', true],
    ['(?m)\\Ab', 'a\nb', false],
    // RE2's `.` stops only at \n (JS's also at \r, U+2028, U+2029).
    ['a.b', 'a\rb', true],
    ['a.b', 'a\u2028b', true],
    ['.', '\n', false],
    ['(?s).', '\n', true],
    // RE2's \s is [\t\n\f\r ], ASCII.
    ['\\s', '\f', true],
    ['\\s', '\v', false],
    ['\\s', '\u00a0', false],
    // Flags hold to the end of the enclosing group, across `|`.
    ['(?i:a)b', 'Ab', true],
    ['(?i:a)b', 'AB', false],
    ['(?i)a(?-i)b', 'Ab', true],
    ['(?i)a(?-i)b', 'AB', false],
    ['x(?i)a|b', 'B', true],
    ['((?i)a)b', 'AB', false],
    ['((?i)a)b', 'Ab', true],
    ['(?U)a+', 'a', true],
    ['(?is)A.B', 'a\nb', true],
    // POSIX classes.
    ['[[:alpha:]]+[[:digit:]]', 'ab1', true],
    ['^[[:^digit:]]+$', 'abc', true],
    ['^[[:^digit:]]+$', 'ab1', false],
    ['[[:punct:]]', 'a;b', true],
    ['^[[:xdigit:]]+$', 'c0ffee', true],
    ['(?i)^[[:upper:]]+$', 'abc', true],
    // Braces that are not a repeat are literals.
    ['a{,5}', 'a{,5}', true],
    ['a{', 'a{', true],
    ['^x{01}$', 'x{01}', true],
    ['^x{01}$', 'x', false],
    ['^{$', '{', true],
    // Class edge cases.
    ['^[]a]+$', ']a]', true],
    ['[^]a]', ']a', false],
    ['[a-]', '-', true],
    ['[a\\]]', ']', true],
    ['[\\D]', '1', false],
    ['[^\\D]', '1', true],
    ['[\\s\\d]', ' ', true],
    ['[a-c-e]', '-', true],
    // Named groups are plain groups.
    ['(?P<agent>curl)/\\d', 'curl/8', true],
    ['(?<agent>curl)/\\d', 'wget/1', false],
    ['\\a\\f\\v\\0', '\x07\f\v\0', true],
    ['\\x{1F600}', '😀', true],
    ['\\-\\_\\ ', '-_ ', true],
  ])('%j on %j → %s', (pattern, input, expected) => {
    expect(matches(pattern, input)).toBe(expected)
  })
})

describe('compileLinearRegex: code points, not UTF-16 units', () => {
  it.each<[string, string, boolean]>([
    ['^.$', '😀', true],
    ['^..$', '😀', false],
    ['^\\x{1F600}$', '😀', true],
    ['[^😀]', '😀', false],
    ['^[^a]$', '😀', true],
    ['(?i)😀', '😀', true],
    ['^a😀+b$', 'a😀😀😀b', true],
    ['a\\b😀', 'a😀', true],
    ['\\b😀', ' 😀', false],
    // A lone surrogate is one code point of its own.
    ['^.$', '\ud83d', true],
    ['^\ud83d$', '\ud83d', true],
    ['^\\x{d83d}', '😀', false],
  ])('%j on %j → %s', (pattern, input, expected) => {
    expect(matches(pattern, input)).toBe(expected)
  })
})

describe('compileLinearRegex: refusals', () => {
  it.each<[string, LinearRegexErrorCode, string]>([
    ['(a)\\1', 'regex_unsupported', 'backreference \\1 is not supported'],
    ['(?P<a>x)(?P=a)', 'regex_unsupported', 'group or flag (?P is not supported'],
    ['(?=a)', 'regex_unsupported', 'lookaround (?= is not supported'],
    ['a(?!b)', 'regex_unsupported', 'lookaround (?! is not supported'],
    ['(?<=a)b', 'regex_unsupported', 'lookaround (?<= is not supported'],
    ['(?<!a)b', 'regex_unsupported', 'lookaround (?<! is not supported'],
    ['(?>a+)b', 'regex_unsupported', 'group or flag (?> is not supported'],
    ['a*+', 'regex_unsupported', 'possessive quantifier *+ is not supported'],
    ['a{2,}+', 'regex_unsupported', 'possessive quantifier {2,}+ is not supported'],
    ['\\p{L}', 'regex_unsupported', 'Unicode class \\p is not supported'],
    ['\\pL', 'regex_unsupported', 'Unicode class \\p is not supported'],
    ['[\\P{Greek}]', 'regex_unsupported', 'Unicode class \\P is not supported'],
    ['\\Q.\\E', 'regex_unsupported', 'escape \\Q is not supported'],
    ['a\\Z', 'regex_unsupported', 'escape \\Z is not supported'],
    ['\\C', 'regex_unsupported', 'escape \\C is not supported'],
    ['\\u0041', 'regex_unsupported', 'escape \\u is not supported'],
    ['[\\b]', 'regex_unsupported', 'escape \\b is not supported in a class'],
    ['(?x)a b', 'regex_unsupported', 'group or flag (?x is not supported'],
    ['(?#note)a', 'regex_unsupported', 'group or flag (?# is not supported'],
    ['(abc', 'regex_invalid', 'missing ) to close a group (at character 0'],
    ['a)', 'regex_invalid', 'unmatched ) (at character 1'],
    ['[a', 'regex_invalid', 'missing ] to close a class'],
    ['[]', 'regex_invalid', 'missing ] to close a class'],
    ['[z-a]', 'regex_invalid', 'invalid class range'],
    ['[a-\\d]', 'regex_invalid', 'invalid class range'],
    ['[[:foo:]]', 'regex_invalid', 'unknown class [:foo:]'],
    ['*a', 'regex_invalid', 'missing argument to repetition operator *'],
    ['a|+', 'regex_invalid', 'missing argument to repetition operator +'],
    ['(?i)?', 'regex_invalid', 'missing argument to repetition operator'],
    ['{2}', 'regex_invalid', 'missing argument to repetition operator {'],
    ['a**', 'regex_invalid', 'nested repetition operator **'],
    ['a{2}{3}', 'regex_invalid', 'nested repetition operator {2}{3}'],
    ['a*??', 'regex_invalid', 'nested repetition operator *??'],
    ['a{1001}', 'regex_invalid', 'invalid repeat count {1001} (at most 1000)'],
    ['a{2,1}', 'regex_invalid', 'invalid repeat count {2,1}'],
    ['a\\', 'regex_invalid', 'trailing backslash'],
    ['\\x4', 'regex_invalid', 'invalid hexadecimal escape'],
    ['\\x{110000}', 'regex_invalid', 'invalid hexadecimal escape'],
    ['\\x{}', 'regex_invalid', 'invalid hexadecimal escape'],
    ['\\é', 'regex_invalid', 'invalid escape \\é'],
    ['(?P<>a)', 'regex_invalid', 'invalid named group'],
    ['(?i-)a', 'regex_invalid', 'invalid flags (?i-)'],
    ['(?', 'regex_invalid', 'invalid flags (?'],
    [`(?:a{1000}){${Math.ceil(MAX_PROGRAM_SIZE / 1000)}}`, 'regex_too_large', `more than ${MAX_PROGRAM_SIZE} instructions`],
    ['((?:){1000}){1000}', 'regex_too_large', `more than ${MAX_PROGRAM_SIZE} instructions`],
  ])('%j → %s', (pattern, code, message) => {
    const error = (() => {
      try {
        compileLinearRegex(pattern)
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(LinearRegexError)
    expect(error).toMatchObject({ name: 'LinearRegexError', code })
    expect((error as Error).message).toContain(message)
  })

  it('accepts what is just inside the limits (and not one group deeper)', () => {
    expect(matches('^a{1000}$', 'a'.repeat(1000))).toBe(true)
    expect(matches('^a{1000}$', 'a'.repeat(999))).toBe(false)
    expect(matches(`${'('.repeat(1000)}a${')'.repeat(1000)}`, 'a')).toBe(true)
    expect(() => compileLinearRegex(`${'('.repeat(1001)}a${')'.repeat(1001)}`)).toThrow(
      expect.objectContaining({ code: 'regex_too_large', message: expect.stringContaining('groups nested deeper than 1000') }),
    )
    // n blocks of a{1000} and the final match: n × 1000 + 1 instructions.
    expect(matches(`(?:a{1000}){${Math.floor((MAX_PROGRAM_SIZE - 1) / 1000)}}`, 'a')).toBe(false)
    expect(matches('[a-z]{0,1000}', '')).toBe(true)
  })
})

describe('compileLinearRegex: patterns that make a backtracking engine exponential', () => {
  // Scaleway truncates user agents at 255 characters: the attacker's input is at most that.
  const fill = (s: string) => s.repeat(255).slice(0, 255)
  const a255 = fill('a')
  it.each<[string, boolean, string]>([
    ['^(a+)+$', false, `${fill('a').slice(1)}!`],
    ['^(a+)+$', true, a255],
    ['(a|aa)*b', false, a255],
    ['(a|aa)*b', true, `${a255.slice(1)}b`],
    ['(x+x+)+y', false, fill('x')],
    ['.*.*.*.*.*=', false, a255],
    ['.*.*.*.*.*=', true, `${a255.slice(1)}=`],
    ['(a*)*b', false, a255],
    ['^(\\w+\\s?)*$', false, `${fill('ab ').slice(1)}!`],
    ['(?i)^(a|A)+$', false, `${fill('aA').slice(1)}!`],
    ['^(.*a){12}$', false, `${a255.slice(1)}b`],
    ['(\\d+)*[a-z]$', false, `${fill('1').slice(1)}!`],
    ['^([a-zA-Z0-9._-]+)*@', false, a255],
    ['(?:a?){255}a{255}', true, a255],
    ['^(?:a?){256}a{256}$', false, a255],
  ])('%j → %s on 255 characters', (pattern, expected, input) => {
    expect(input).toHaveLength(255)
    expect(matches(pattern, input)).toBe(expected)
  })
})
