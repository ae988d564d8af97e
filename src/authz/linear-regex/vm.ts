/**
 * The parsed pattern compiled to a Thompson NFA, and the Pike VM that runs it (the
 * algorithm of RE2; Russ Cox, "Regular Expression Matching Can Be Simple And Fast"):
 * all threads advance together one code point at a time, each instruction at most
 * once per step, so a match costs O(program × input) and never backtracks.
 */
import { caseOf, LinearRegexError, type Assertion, type CharNode, type Node } from './parser.js'

/**
 * The largest compiled program, in instructions. A match costs at most program ×
 * input steps: at this size, with every thread alive, ~8 ms on 255 characters
 * (docs/conditions.md); `x{0,1000}` of one character (2,001 instructions) still fits.
 */
export const MAX_PROGRAM_SIZE = 3000

// Opcodes. `x` is the set index (CHAR), the assertion index (ASSERT) or the target
// (JMP, SPLIT's preferred branch); `y` is SPLIT's other branch.
const CHAR = 0
const ASSERT = 1
const SPLIT = 2
const JMP = 3
const MATCH = 4
const ASSERTIONS: Assertion[] = ['bot', 'eot', 'bol', 'eol', 'word', 'notWord']

/** A compiled pattern: parallel arrays indexed by instruction. */
export interface Program {
  op: Uint8Array
  x: Int32Array
  y: Int32Array
  sets: CharNode[]
  /** Whether some set is case-insensitive (the input's case variants are then computed). */
  fold: boolean
}

/** Compiles the tree. @throws {LinearRegexError} `regex_too_large` over {@link MAX_PROGRAM_SIZE}. */
export function compile(root: Node): Program {
  const op: number[] = []
  const x: number[] = []
  const y: number[] = []
  const sets: CharNode[] = []
  let work = 0
  const tooLarge = (): never => {
    throw new LinearRegexError('regex_too_large', `pattern compiles to more than ${MAX_PROGRAM_SIZE} instructions; use smaller repeat counts`)
  }
  const emit = (code: number, target = 0, other = 0): number => {
    if (op.length >= MAX_PROGRAM_SIZE) tooLarge()
    x.push(target)
    y.push(other)
    return op.push(code) - 1
  }
  const gen = (node: Node): void => {
    // Calls are counted too: empty repeats emit nothing (`((?:){1000}){1000}`).
    if (++work > 10 * MAX_PROGRAM_SIZE) tooLarge()
    switch (node.op) {
      case 'char':
        emit(CHAR, sets.push(node) - 1)
        break
      case 'assert':
        emit(ASSERT, ASSERTIONS.indexOf(node.kind))
        break
      case 'cat':
        node.subs.forEach(gen)
        break
      case 'alt': {
        const last = node.subs.length - 1
        const jumps = node.subs.slice(0, last).map((sub) => {
          const fork = emit(SPLIT, op.length + 1)
          gen(sub)
          const jump = emit(JMP)
          y[fork] = op.length
          return jump
        })
        gen(node.subs[last]!)
        for (const jump of jumps) x[jump] = op.length
        break
      }
      case 'repeat': {
        const { sub, min, max } = node
        for (let k = 1; k < min; k++) gen(sub)
        const loop = op.length
        if (max < 0 && min > 0) {
          // x{n,}: x{n-1} then x+, a split looping back after x.
          gen(sub)
          emit(SPLIT, loop, op.length + 1)
        } else if (max < 0) {
          const fork = emit(SPLIT, loop + 1)
          gen(sub)
          emit(JMP, loop)
          y[fork] = op.length
        } else {
          // x{n,m}: x{n} then m-n optional copies, each able to skip to the end.
          if (min > 0) gen(sub)
          const forks: number[] = []
          for (let k = min; k < max; k++) {
            forks.push(emit(SPLIT, op.length + 1))
            gen(sub)
          }
          for (const fork of forks) y[fork] = op.length
        }
      }
    }
  }
  gen(root)
  emit(MATCH)
  return { op: Uint8Array.from(op), x: Int32Array.from(x), y: Int32Array.from(y), sets, fold: sets.some((set) => set.fold) }
}

const isWord = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122)

function holds(kind: number, before: number, after: number): boolean {
  switch (ASSERTIONS[kind]) {
    case 'bot': return before < 0
    case 'eot': return after < 0
    case 'bol': return before < 0 || before === 10
    case 'eol': return after < 0 || after === 10
    case 'word': return isWord(before) !== isWord(after)
    default: return isWord(before) === isWord(after)
  }
}

function inSet(ranges: number[], c: number): boolean {
  for (let k = 0; k < ranges.length; k += 2) if (c >= ranges[k]! && c <= ranges[k + 1]!) return true
  return false
}

/** The other code points `c` matches case-insensitively: its cases and theirs (K: k, then K). */
function caseVariants(c: number): number[] {
  if (c < 128) return c >= 65 && c <= 90 ? [c + 32] : c >= 97 && c <= 122 ? [c - 32] : []
  const lower = caseOf(c, false)
  const upper = caseOf(c, true)
  return [...new Set([lower, upper, caseOf(lower, true), caseOf(upper, false)])].filter((v) => v !== c)
}

/**
 * Whether `program` matches some substring of `input`. The threads of a step are a
 * set of instruction indexes (`seen` marks them per position); a boolean answer needs
 * neither captures nor thread priority, so one stack serves every closure.
 */
export function run(program: Program, input: string): boolean {
  const { op, x, y, sets, fold } = program
  const size = op.length
  const seen = new Int32Array(size)
  const threads = new Int32Array(size)
  // A step pushes at most one successor per thread and a start thread; the closure
  // visits each instruction once and pushes at most two.
  const stack = new Int32Array(3 * size + 2)
  let top = 0
  let before = -1
  let c = input.length > 0 ? input.codePointAt(0)! : -1
  for (let pos = 0; ; ) {
    // Unanchored search: a new thread starts at every position.
    stack[top++] = 0
    // The closure at `pos`: every thread reachable without reading (`mark` is per position).
    const mark = pos + 1
    let count = 0
    while (top > 0) {
      const at = stack[--top]!
      if (seen[at] === mark) continue
      seen[at] = mark
      switch (op[at]) {
        case MATCH: return true
        case CHAR: threads[count++] = at; break
        case JMP: stack[top++] = x[at]!; break
        case SPLIT: stack[top++] = y[at]!; stack[top++] = x[at]!; break
        default: if (holds(x[at]!, before, c)) stack[top++] = at + 1
      }
    }
    if (c < 0) return false
    // The step: each thread whose set holds `c` continues after it.
    const variants = fold ? caseVariants(c) : []
    for (let k = 0; k < count; k++) {
      const pc = threads[k]!
      const { ranges, negated, fold: folded } = sets[x[pc]!]!
      if ((inSet(ranges, c) || (folded && variants.some((v) => inSet(ranges, v)))) !== negated) stack[top++] = pc + 1
    }
    pos += c > 0xffff ? 2 : 1
    before = c
    c = pos < input.length ? input.codePointAt(pos)! : -1
  }
}
