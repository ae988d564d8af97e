/**
 * V8 CPU profiles of a Worker in `workerd serve`, taken through workerd's
 * inspector (`--inspector-addr`): the DevTools protocol's `Profiler` domain over
 * the inspector's WebSocket (the `ws` package the toolchain already installs),
 * and the profile read back as the top self-time and total-time entries, with
 * bundle positions mapped to source files and lines through esbuild's source map.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'

const require = createRequire(import.meta.url)

/** A `.cpuprofile`: what `Profiler.stop` returns (Chrome DevTools opens it as it is). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number; children?: number[] }[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** A free TCP port on 127.0.0.1 (for the inspector, whose address workerd does not report). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

interface WebSocketLike {
  on(event: 'open' | 'message' | 'error' | 'close', listener: (data?: unknown) => void): void
  send(data: string): void
  close(): void
}

/**
 * A CPU profile of one Worker (`service`) of a workerd started with
 * `--inspector-addr=127.0.0.1:<inspectorPort>`, sampled every `intervalMicros`
 * while `during` runs.
 * @throws {Error} when the inspector does not list the Worker or answers an error.
 */
export async function takeCpuProfile(options: { inspectorPort: number; service: string; intervalMicros: number; during: () => Promise<void> }): Promise<CpuProfile> {
  const list = (await (await fetch(`http://127.0.0.1:${options.inspectorPort}/json/list`)).json()) as { id: string; webSocketDebuggerUrl: string }[]
  const entry = list.find((e) => e.id === options.service)
  if (!entry) throw new Error(`the inspector lists no Worker ${options.service} (it has ${list.map((e) => e.id).join(', ')})`)
  const WebSocket = require('ws') as new (url: string) => WebSocketLike
  const socket = new WebSocket(entry.webSocketDebuggerUrl)
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } }
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id!)
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`))
    else waiter.resolve(message.result)
  })
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve())
    socket.on('error', (e) => reject(e instanceof Error ? e : new Error(String(e))))
  })
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      socket.send(JSON.stringify({ id, method, params }))
    })
  try {
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: options.intervalMicros })
    await call('Profiler.start')
    await options.during()
    const { profile } = (await call('Profiler.stop')) as { profile: CpuProfile }
    await call('Profiler.disable')
    return profile
  } finally {
    socket.close()
  }
}

/** One row of a summary: a function at a source position. */
export interface ProfileEntry {
  functionName: string
  /** `src/proxy/forward.ts:52`, `node_modules/hono/…:12`, or `(native)` for runtime built-ins. */
  location: string
  selfPercent: number
  totalPercent: number
}

/** What a profile says, in percent of the samples that ran JavaScript or the runtime for the Worker (idle excluded). */
export interface ProfileSummary {
  samples: number
  /** Samples outside idle, the base of every percentage. */
  busySamples: number
  /** Share of busy samples in V8's own pseudo-frames: `(program)` (workerd's C++ outside any JS call: HTTP parsing, the event loop), `(garbage collector)`. */
  pseudo: Record<string, number>
  bySelf: ProfileEntry[]
  byTotal: ProfileEntry[]
  /** Self time by source file. */
  byFile: { file: string; selfPercent: number }[]
}

type Resolve = (url: string, line: number, column: number) => { file: string; line: number } | undefined

/**
 * A resolver from bundle positions to source positions, from esbuild's source maps
 * (`<module>.map` beside each bundle) with `@jridgewell/trace-mapping` when the
 * toolchain has it; without it, positions stay the bundle's.
 */
export function sourceMapResolver(maps: Record<string, string>): Resolve {
  let tm: { TraceMap: new (map: string) => unknown; originalPositionFor: (map: unknown, pos: { line: number; column: number }) => { source: string | null; line: number | null } } | undefined
  try {
    tm = require('@jridgewell/trace-mapping')
  } catch {
    tm = undefined
  }
  const traced = new Map<string, unknown>()
  return (url, line, column) => {
    const module = Object.keys(maps).find((name) => url.endsWith(name))
    if (!module || !tm) return undefined
    let map = traced.get(module)
    if (!map) traced.set(module, (map = new tm.TraceMap(readFileSync(maps[module]!, 'utf8'))))
    const position = tm.originalPositionFor(map, { line: line + 1, column })
    if (!position.source || position.line === null) return undefined
    return { file: position.source.replace(/^(\.\.\/)+/, '').replace(/^.*?node_modules\//, 'node_modules/'), line: position.line }
  }
}

const PSEUDO = new Set(['(program)', '(garbage collector)', '(idle)', '(root)'])

/** Reads a profile as the top `top` entries by self and by total time (a function counted once per sample, recursion included). */
export function summarizeProfile(profile: CpuProfile, resolve: Resolve, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const keyOf = new Map<number, string>()
  const entryOf = new Map<string, { functionName: string; location: string }>()
  for (const n of profile.nodes) {
    const f = n.callFrame
    let location: string
    if (PSEUDO.has(f.functionName)) location = ''
    else if (!f.url) location = '(native)'
    else {
      const mapped = resolve(f.url, f.lineNumber, f.columnNumber)
      location = mapped ? `${mapped.file}:${mapped.line}` : `${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}`
    }
    const functionName = f.functionName || '(anonymous)'
    const key = `${functionName} ${location}`
    keyOf.set(n.id, key)
    entryOf.set(key, { functionName, location })
  }
  // Keys on each node's stack (itself and its callers), computed once per node.
  const stackKeys = new Map<number, Set<string>>()
  const keysOf = (id: number): Set<string> => {
    let keys = stackKeys.get(id)
    if (keys) return keys
    const up = parent.get(id)
    keys = new Set(up === undefined ? [] : keysOf(up))
    keys.add(keyOf.get(id)!)
    stackKeys.set(id, keys)
    return keys
  }
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const file = new Map<string, number>()
  let idle = 0
  for (const id of profile.samples) {
    const node = byId.get(id)!
    const name = node.callFrame.functionName
    if (name === '(idle)') {
      idle++
      continue
    }
    const key = keyOf.get(id)!
    self.set(key, (self.get(key) ?? 0) + 1)
    const where = PSEUDO.has(name) ? name : entryOf.get(key)!.location.replace(/:\d+$/, '')
    file.set(where, (file.get(where) ?? 0) + 1)
    for (const k of keysOf(id)) total.set(k, (total.get(k) ?? 0) + 1)
  }
  const busy = profile.samples.length - idle
  const pct = (n: number) => (busy === 0 ? 0 : (100 * n) / busy)
  const entries = [...total.keys()].filter((k) => !PSEUDO.has(entryOf.get(k)!.functionName))
  const row = (k: string): ProfileEntry => ({ ...entryOf.get(k)!, selfPercent: pct(self.get(k) ?? 0), totalPercent: pct(total.get(k) ?? 0) })
  const pseudo: Record<string, number> = {}
  for (const [k, n] of self) if (PSEUDO.has(entryOf.get(k)!.functionName)) pseudo[entryOf.get(k)!.functionName] = pct(n)
  return {
    samples: profile.samples.length,
    busySamples: busy,
    pseudo,
    bySelf: entries.sort((x, y) => (self.get(y) ?? 0) - (self.get(x) ?? 0)).slice(0, top).map(row),
    byTotal: [...entries].sort((x, y) => (total.get(y) ?? 0) - (total.get(x) ?? 0)).slice(0, top).map(row),
    byFile: [...file].sort((x, y) => y[1] - x[1]).slice(0, top).map(([f, n]) => ({ file: f, selfPercent: pct(n) })),
  }
}

/** The summary as aligned text tables. */
export function profileTables(summary: ProfileSummary): string {
  const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n))
  const rows = (list: ProfileEntry[], first: 'self' | 'total') =>
    list.map((e) => `${(first === 'self' ? e.selfPercent : e.totalPercent).toFixed(1).padStart(6)}  ${(first === 'self' ? e.totalPercent : e.selfPercent).toFixed(1).padStart(6)}  ${pad(e.functionName, 34)}  ${e.location}`)
  const pseudo = Object.entries(summary.pseudo)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)} %`)
    .join(', ')
  return [
    `${summary.busySamples} busy samples of ${summary.samples}; outside JavaScript: ${pseudo || 'none'}`,
    '',
    'by self time',
    '  self%  total%  function                            location',
    ...rows(summary.bySelf, 'self'),
    '',
    'by total time (inclusive)',
    ' total%   self%  function                            location',
    ...rows(summary.byTotal, 'total'),
    '',
    'self time by file',
    ...summary.byFile.map((f) => `${f.selfPercent.toFixed(1).padStart(6)}  ${f.file}`),
  ].join('\n')
}
