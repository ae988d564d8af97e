import { EdgeAuthError } from '../../errors.js'
import { fromBinary, utf8, type BodyFields } from './binary.js'

/** One top-level member of a JSON object text: where it starts and ends, its decoded name, its value's text. */
interface Member {
  start: number
  end: number
  name: string
  value: string
}

/**
 * The named top-level string fields of a JSON body (a binary string of UTF-8),
 * and the body without those members: the other members, the whitespace and the
 * separators between them stay byte for byte as sent (numbers beyond double
 * precision included); only the removed members and the separator after each go.
 * Every occurrence of a repeated name is read and removed (`JSON.parse` would
 * keep the last one only, another parser the first).
 * @returns no values and the body as it is when it is not a JSON object.
 * @throws {EdgeAuthError} `body_invalid` when the body is not UTF-8 JSON;
 *   `credentials_malformed` when a named field is not a string.
 */
export function jsonFields(body: string, names: readonly string[]): BodyFields {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromBinary(body)))
  } catch (cause) {
    throw new EdgeAuthError('body_invalid', 'the body is not UTF-8 JSON', {}, { cause })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { values: [], rest: body }
  // The text is valid JSON from here: the scanner only has to find where members start and end.
  const open = skipSpace(body, body.startsWith('\xEF\xBB\xBF') ? 3 : 0)
  const members = membersOf(body, open)
  const values: BodyFields['values'] = []
  const kept: number[] = []
  for (const [index, member] of members.entries()) {
    if (!names.includes(member.name)) {
      kept.push(index)
      continue
    }
    const value: unknown = JSON.parse(utf8(member.value))
    if (typeof value !== 'string') throw new EdgeAuthError('credentials_malformed', `the body field "${member.name}" is not a string`)
    values.push({ name: member.name, value })
  }
  if (values.length === 0) return { values, rest: body }
  // Prefix, each kept member with the separator that followed it (the last one without), suffix.
  const first = members[0]!
  const last = members.at(-1)!
  let rest = body.slice(0, first.start)
  for (const [i, index] of kept.entries()) {
    const member = members[index]!
    rest += body.slice(member.start, member.end)
    if (i < kept.length - 1) rest += body.slice(member.end, members[index + 1]!.start)
  }
  return { values, rest: rest + body.slice(last.end) }
}

function membersOf(text: string, open: number): Member[] {
  const members: Member[] = []
  let i = skipSpace(text, open + 1)
  if (text[i] === '}') return members
  for (;;) {
    const start = i
    const nameEnd = stringEnd(text, i)
    const name = JSON.parse(utf8(text.slice(i, nameEnd))) as string
    i = skipSpace(text, skipSpace(text, nameEnd) + 1)
    const valueEnd = valueEndAt(text, i)
    members.push({ start, end: valueEnd, name, value: text.slice(i, valueEnd) })
    i = skipSpace(text, valueEnd)
    if (text[i] !== ',') return members
    i = skipSpace(text, i + 1)
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  return i
}

/** The index after the string literal that starts at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; ; j++) {
    if (text[j] === '\\') j++
    else if (text[j] === '"') return j + 1
  }
}

/** The index after the value that starts at `i`. */
function valueEndAt(text: string, i: number): number {
  const first = text[i]
  if (first === '"') return stringEnd(text, i)
  if (first === '{' || first === '[') {
    let depth = 0
    for (let j = i; ; j++) {
      const ch = text[j]
      if (ch === '"') j = stringEnd(text, j) - 1
      else if (ch === '{' || ch === '[') depth++
      else if (ch === '}' || ch === ']') {
        depth--
        if (depth === 0) return j + 1
      }
    }
  }
  let j = i
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j++
  return j
}
