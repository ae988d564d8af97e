/**
 * The cost of one `LinearRegex.test` call on a 255-character input (Scaleway's
 * user-agent limit), in microseconds, for the patterns that make a backtracking
 * engine exponential, a few a policy author writes, and the largest programs the
 * compiler accepts (the bound: program size × input length).
 *
 * Each figure is CPU time, the lowest of several batch medians (the machine is
 * shared), in Node on this machine's V8; workerd runs the same engine.
 *
 *   node --import tsx scripts/bench/regex-cost.ts
 */
import { compileLinearRegex, MAX_PROGRAM_SIZE } from '../../src/authz/linear-regex/index.js'
import { median, round } from './lib/stats.js'

const fill = (s: string) => s.repeat(255).slice(0, 255)
const a255 = fill('a')
const userAgent = fill('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 ')
// The largest accepted programs: blocks of a{1000} (one thread alive per step), and
// of a? (every thread alive at every step: the worst case).
const chunks = (count: number, unit: string) =>
  Array.from({ length: Math.ceil(count / 1000) }, (_, k) => `(?:${unit}){${Math.min(1000, count - k * 1000)}}`).join('')
const largest = chunks(MAX_PROGRAM_SIZE - 2, 'a')
const largestDense = chunks(Math.floor((MAX_PROGRAM_SIZE - 2) / 2), 'a?')

const cases: [group: string, pattern: string, input: string][] = [
  ['pathological', '^(a+)+$', `${a255.slice(1)}!`],
  ['pathological', '(a|aa)*b', a255],
  ['pathological', '(x+x+)+y', fill('x')],
  ['pathological', '.*.*.*.*.*=', a255],
  ['pathological', '(a*)*b', a255],
  ['pathological', '^(\\w+\\s?)*$', `${fill('ab ').slice(1)}!`],
  ['pathological', '(?i)^(a|A)+$', `${fill('aA').slice(1)}!`],
  ['pathological', '^(.*a){12}$', `${a255.slice(1)}b`],
  ['pathological', '^([a-zA-Z0-9._-]+)*@', a255],
  ['policy', '(?i)(bot|crawler|spider)', userAgent],
  ['policy', '^Mozilla/5\\.0 \\([^)]{1,200}\\)', userAgent],
  ['policy', '^[a-zA-Z0-9._-]{1,255}$', `${a255.slice(1)}!`],
  ['policy', '[a-z]{1,64}!', a255],
  ['limit', `${largest}b`, a255],
  ['limit', `${largestDense}b`, a255],
]

/** CPU time (not wall time: the machine is shared) per call, the lowest of three medians of three batches. */
function microsPerCall(test: (input: string) => boolean, input: string): number {
  const cpu = () => process.cpuUsage().user
  let calls = 1
  // Batches of at least 20 ms.
  for (let start = cpu(); ; calls *= 2, start = cpu()) {
    for (let k = 0; k < calls; k++) test(input)
    if (cpu() - start > 20_000) break
  }
  const batches: number[] = []
  for (let b = 0; b < 9; b++) {
    const start = cpu()
    for (let k = 0; k < calls; k++) test(input)
    batches.push((cpu() - start) / calls)
  }
  return Math.min(median(batches.slice(0, 3)), median(batches.slice(3, 6)), median(batches.slice(6)))
}

console.log(`program cap ${MAX_PROGRAM_SIZE} instructions; input 255 characters`)
console.log(`${'group'.padEnd(13)}${'pattern'.padEnd(42)}${'µs/call'.padStart(10)}  result`)
for (const [group, pattern, input] of cases) {
  const regex = compileLinearRegex(pattern)
  const micros = microsPerCall((s) => regex.test(s), input)
  console.log(`${group.padEnd(13)}${pattern.padEnd(42)}${String(round(micros, 1)).padStart(10)}  ${regex.test(input)}`)
}
