/**
 * `npm run scale -- --keys 100000`: the sync Workflow at scale, with figures.
 *
 * Runs the `scale` test project (test/scale/sync-100k.test.ts: the emulator seeded in
 * bulk, every key captured, a sync from nothing, then one that changes nothing) with
 * SCALE_KEYS keys, and meanwhile samples the resident memory (VmRSS, /proc) of the
 * workerd process that runs the gateway's Worker, the sync Workflow and the key-set owner
 * every 50 ms. Each sample is attributed to the sync step whose start and end lines
 * (SYNC_LOG_STEPS) it falls between. Prints, per step: subrequests, KV writes, time, peak
 * RSS, its growth during the step, and above the level before the first sync; then the totals.
 *
 * The RSS is an upper bound of what one step's isolate holds: that process also holds
 * the test runner, Miniflare's KV and the Durable Object's SQLite (workerd has no memory
 * API inside an isolate). docs/scale.md.
 */
import { spawn } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { createInterface } from 'node:readline'

interface StepLine {
  event: 'sync.step.start' | 'sync.step'
  run: string
  step: string
  subrequests?: number
  ownerKvOps?: number
  kvWrites?: number
}

interface StepFigures {
  run: string
  step: string
  startedAt: number
  endedAt?: number
  /** The last RSS sample before the step started. */
  startRssBytes: number
  subrequests?: number
  kvWrites?: number
  peakRssBytes: number
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback
}

/** workerd processes below `root`, oldest first (by pid order of /proc: start order). */
async function workerdBelow(root: number): Promise<number[]> {
  const parents = new Map<number, number>()
  const names = new Map<number, string>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(Number(entry), ppid)
      names.set(Number(entry), name)
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true
    return false
  }
  return [...names].filter(([pid, name]) => name.startsWith('workerd') && below(pid)).map(([pid]) => pid).sort((a, b) => a - b)
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  return kb ? Number(kb) * 1024 : 0
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

async function main(): Promise<void> {
  const keys = option('keys', '100000')
  const child = spawn('npx', ['vitest', 'run', '--project', 'scale', '--silent=false'], { env: { ...process.env, SCALE_KEYS: keys }, stdio: ['ignore', 'pipe', 'inherit'] })
  const steps: StepFigures[] = []
  let open: StepFigures | undefined
  let baseline: number | undefined
  let result: Record<string, unknown> | undefined
  let gateway: number | undefined
  let lastRss = 0

  const sampler = setInterval(async () => {
    if (gateway === undefined) {
      // The emulator starts first (global setup), the Workers pool's workerd after it.
      const found = await workerdBelow(child.pid!)
      if (found.length >= 2) gateway = found.at(-1)
      return
    }
    const rss = await rssBytes(gateway)
    lastRss = rss
    if (open) open.peakRssBytes = Math.max(open.peakRssBytes, rss)
    else if (steps.length === 0) baseline = rss
  }, 50)

  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (text) => {
    const json = text.slice(text.indexOf('{'))
    let line: StepLine | { event: 'scale.result' }
    try {
      line = JSON.parse(json) as StepLine | { event: 'scale.result' }
    } catch {
      if (/✓|×|FAIL|Test Files|Tests /.test(text)) console.log(text)
      return
    }
    const now = Date.now()
    if (line.event === 'sync.step.start') {
      open = { run: line.run, step: line.step, startedAt: now, startRssBytes: lastRss, peakRssBytes: lastRss }
      steps.push(open)
    } else if (line.event === 'sync.step') {
      if (!open || open.step !== line.step) return
      Object.assign(open, { endedAt: now, subrequests: line.subrequests, kvWrites: line.kvWrites })
      open = undefined
    } else if (line.event === 'scale.result') {
      result = line as unknown as Record<string, unknown>
    }
  })

  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))
  clearInterval(sampler)
  const base = baseline ?? 0
  const runs = [...new Set(steps.map((s) => s.run))]
  console.log(`\nworkerd RSS before the first sync: ${mb(base)} MB (the gateway's process: Worker, Workflow, owner, test runner, local KV)`)
  for (const [index, run] of runs.entries()) {
    const mine = steps.filter((s) => s.run === run)
    console.log(`\nrun ${index + 1} (${index === 0 ? 'from nothing' : 'nothing changed'}): ${mine.length} steps`)
    console.table(
      mine.map((s) => ({
        step: s.step,
        subrequests: s.subrequests ?? null,
        kv_writes: s.kvWrites ?? null,
        ms: s.endedAt ? s.endedAt - s.startedAt : null,
        peak_rss_mb: Number(mb(s.peakRssBytes)),
        growth_in_step_mb: Number(mb(Math.max(0, s.peakRssBytes - s.startRssBytes))),
        above_baseline_mb: Number(mb(Math.max(0, s.peakRssBytes - base))),
      })),
    )
    const peak = mine.reduce((max, s) => (s.peakRssBytes > max.peakRssBytes ? s : max), mine[0]!)
    console.log(`highest peak: ${mb(peak.peakRssBytes)} MB (+${mb(Math.max(0, peak.peakRssBytes - base))} MB) in ${peak.step}`)
  }
  if (result) console.log(`\n${JSON.stringify(result, null, 2)}`)
  process.exitCode = code
}

await main()
