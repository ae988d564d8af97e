/**
 * `workerd serve` driven directly (no Miniflare in the request path): a generated
 * Cap'n Proto text config in a temporary directory, one socket per Worker on
 * 127.0.0.1 (port 0: workerd picks, and reports the port on its control fd),
 * and the process's CPU time and memory read from /proc.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { own, stop } from './processes.js'

/** The workerd binary of the `workerd` npm package (the one Miniflare and wrangler use). */
export const WORKERD_BIN: string = createRequire(import.meta.url)('workerd').default
export const WORKERD_VERSION: string = createRequire(import.meta.url)('workerd/package.json').version
export const COMPATIBILITY_DATE = '2026-04-20'

/** One binding of a Worker. */
export type Binding =
  | { name: string; text: string }
  | { name: string; json: unknown }
  | { name: string; kvNamespace: string }
  | { name: string; service: string }

/** A Worker: one ES module (a file in the config directory) and its bindings. */
export interface WorkerSpec {
  name: string
  /** File name of the bundled module, relative to the config directory. */
  module: string
  bindings?: Binding[]
  /** Service that the Worker's global `fetch()` goes to. Default: no outbound network. */
  globalOutbound?: string
  /** Serve it on a socket of its own (named like the Worker). Default `true`. */
  socket?: boolean
}

/** Services other than Workers: a network (outbound fetch) or an external HTTP server. */
export type ServiceSpec = { name: string; network: { allow: string[] } } | { name: string; external: { address: string } }

const q = (text: string): string => JSON.stringify(text)

function bindingText(binding: Binding): string {
  if ('text' in binding) return `(name = ${q(binding.name)}, text = ${q(binding.text)})`
  if ('json' in binding) return `(name = ${q(binding.name)}, json = ${q(JSON.stringify(binding.json))})`
  if ('kvNamespace' in binding) return `(name = ${q(binding.name)}, kvNamespace = ${q(binding.kvNamespace)})`
  return `(name = ${q(binding.name)}, service = ${q(binding.service)})`
}

/** Renders a workerd config (Cap'n Proto text format). */
export function renderConfig(workers: WorkerSpec[], services: ServiceSpec[] = []): string {
  const serviceLines = [
    ...workers.map((w, i) => `    (name = ${q(w.name)}, worker = .w${i}),`),
    ...services.map((s) =>
      'network' in s
        ? `    (name = ${q(s.name)}, network = (allow = [${s.network.allow.map(q).join(', ')}])),`
        : `    (name = ${q(s.name)}, external = (address = ${q(s.external.address)}, http = ())),`,
    ),
  ]
  const socketLines = workers
    .filter((w) => w.socket !== false)
    .map((w) => `    (name = ${q(w.name)}, address = "127.0.0.1:0", http = (), service = ${q(w.name)}),`)
  const workerConsts = workers.map(
    (w, i) => `const w${i} :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed ${q(w.module)})],
  compatibilityDate = ${q(COMPATIBILITY_DATE)},
  bindings = [${(w.bindings ?? []).map(bindingText).join(', ')}],${w.globalOutbound ? `\n  globalOutbound = ${q(w.globalOutbound)},` : ''}
);`,
  )
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${serviceLines.join('\n')}
  ],
  sockets = [
${socketLines.join('\n')}
  ],
);

${workerConsts.join('\n\n')}
`
}

/** A running `workerd serve`. */
export interface Workerd {
  pid: number
  /** Port of each socket, by socket (Worker) name. */
  ports: Record<string, number>
  /** `http://127.0.0.1:<port>` of a socket. */
  url(socket: string): string
  /** Milliseconds from spawn until every socket listened. */
  listenMs: number
  /** CPU time (user + system) the process has used so far, in seconds (all threads). */
  cpuSeconds(): number
  /** Resident memory now and at its peak (VmHWM), in bytes. */
  memory(): { rss: number; peakRss: number }
  /** The process's stdout and stderr so far (console output of the Workers, workerd's errors). */
  log(): string
  stop(): Promise<void>
}

const CLOCK_TICKS = 100 // USER_HZ on Linux; /proc/<pid>/stat counts in these.

/**
 * Writes `config` into `dir` as `<name>.capnp` and starts `workerd serve` on it.
 * Resolves once every socket listens.
 *
 * @throws {Error} with workerd's own output when it exits or does not listen within `timeoutMs`.
 */
export async function startWorkerd(options: {
  dir: string
  name: string
  config: string
  sockets: string[]
  timeoutMs?: number
  /** More arguments of `workerd serve` (e.g. `--inspector-addr=…`). */
  args?: string[]
  /** A command that runs workerd in its stead and execs it (e.g. `['taskset', '-c', '0']`): the PID stays workerd's. */
  wrap?: string[]
}): Promise<Workerd> {
  const configPath = join(options.dir, `${options.name}.capnp`)
  const logPath = join(options.dir, `${options.name}.log`)
  writeFileSync(configPath, options.config)
  const logFd = openSync(logPath, 'w')
  const started = performance.now()
  const argv = [WORKERD_BIN, 'serve', configPath, '--control-fd=3', ...(options.args ?? [])]
  const [command, ...rest] = [...(options.wrap ?? []), ...argv] as [string, ...string[]]
  const child = spawn(command, rest, { cwd: options.dir, stdio: ['ignore', logFd, logFd, 'pipe'] })
  closeSync(logFd)
  own(child)
  const pid = child.pid
  const log = () => readFileSync(logPath, 'utf8')
  const ports: Record<string, number> = {}
  try {
    if (pid === undefined) throw new Error('workerd did not start')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workerd (${options.name}) did not listen within ${options.timeoutMs ?? 15_000} ms`)), options.timeoutMs ?? 15_000)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`workerd (${options.name}) exited (${code ?? signal})`))
      })
      const lines = createInterface({ input: child.stdio[3] as Readable })
      lines.on('line', (line) => {
        try {
          const message = JSON.parse(line) as { event?: string; socket?: string; port?: number }
          if (message.event === 'listen' && message.socket && message.port) ports[message.socket] = message.port
        } catch {
          // Not a control message.
        }
        if (options.sockets.every((s) => ports[s] !== undefined)) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  } catch (error) {
    await stop(child)
    throw new Error(`${(error as Error).message}\n--- workerd output ---\n${log().slice(-4000)}`)
  }
  const listenMs = performance.now() - started
  return {
    pid: pid!,
    ports,
    listenMs,
    url: (socket) => {
      const port = ports[socket]
      if (port === undefined) throw new Error(`workerd (${options.name}) has no socket ${socket}`)
      return `http://127.0.0.1:${port}`
    },
    cpuSeconds: () => {
      // Fields after the command name (which may hold spaces) start at ") ".
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    },
    memory: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
      return { rss: kb('VmRSS'), peakRss: kb('VmHWM') }
    },
    log,
    stop: () => stop(child),
  }
}
