/**
 * `npm start`: runs the local stack (docs/local-stack.md) until Ctrl-C or SIGTERM.
 *
 * Environment: EDGEGW_GATEWAY_PORT (8787), EDGEGW_EMULATOR_PORT (8788),
 * EDGEGW_STATE_DIR (.edgegw), EDGEGW_SYNC_INTERVAL_SECONDS (60), EDGEGW_MEMORY_TTL_SECONDS (2).
 */
import { FixtureError } from './lib/fixture.js'
import { displayPath as shown, SecretsFileError } from './lib/secrets.js'
import { STACK_ENV, StackError, startStack, type RunningStack, type StackWorker } from './lib/stack.js'
import type { ScheduledRun } from './lib/sync-timer.js'

/** Reads an integer variable within bounds. */
function intFromEnv(variable: { name: string; default: number }, min: number, max: number, what: string): number {
  const raw = process.env[variable.name]
  if (raw === undefined || raw.trim() === '') return variable.default
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) throw new StackError('env_invalid', `${variable.name} must be ${what} from ${min} to ${max}, got "${raw}"`)
  return value
}


function banner(stack: RunningStack): string {
  const calls = stack.curlLines.flatMap((line) => [`  # ${line.status}: ${line.title}`, `  ${line.command}`, ''])
  const seeded = stack.seeded.created.length > 0 ? `seeded: ${stack.seeded.created.length} resources created` : 'state reused: nothing minted'
  const sync = stack.syncIntervalSeconds > 0 ? `every ${stack.syncIntervalSeconds} s through the gateway's scheduled handler (Cron Trigger path)` : 'off'
  const { secrets, fixture } = stack
  return [
    '',
    `edge-auth-gateway local stack is ready (${seeded}; key set ${stack.seeded.snapshotId.slice(0, 8)})`,
    '',
    `  emulator   ${stack.emulatorUrl}   IAM v1alpha1 + serverless v1beta1 API, and the platform (/platform/…)`,
    `             organisation ${fixture.organizationId}, project ${fixture.projectId}`,
    `             admin secret (the owner's key, X-Auth-Token): ${secrets.emulatorAdminSecret}`,
    `  gateway    ${stack.gatewayUrl}   src/worker.ts; admin API ${stack.adminUrl}`,
    `             IAM_API_TOKEN: key ${secrets.apiKeys.gateway?.accessKey} of ${fixture.applications.gateway.name}; ORIGIN_AUTH_TOKEN: key ${secrets.apiKeys.origin?.accessKey} of ${fixture.applications.origin.name}`,
    `  sync       ${sync}`,
    '',
    'Try it from another terminal:',
    '',
    ...calls,
    'Manage it with edgegw (docs/cli.md) from another terminal: run this line, then e.g. `npx edgegw route ls`',
    '',
    `  ${stack.edgegwEnv}`,
    '',
    `State (kept across restarts): ${shown(stack.paths.stateDir)}`,
    `  secrets and minted ids: ${shown(stack.paths.secretsFile)} (local demo values; never commit them)`,
    `Reset: stop the stack, then  rm -rf ${shown(stack.paths.stateDir)}`,
    'Stop: Ctrl-C',
    '',
  ].join('\n')
}

/** One line per sync: the gateway's own `{"event":"sync",…}` log line, shortened. */
function workerLog(worker: StackWorker, line: { level: string; message: string }): void {
  const print = line.level === 'error' || line.level === 'warn' ? console.error : console.log
  if (worker === 'gateway' && line.message.startsWith('{"event":"sync"')) {
    try {
      // The sync Workflow's line at the end of each run (src/sync/workflow.ts); `reason`: cron, admin, or the change.
      const sync = JSON.parse(line.message) as { reason?: string; ok: boolean; changed: boolean; counts?: Record<string, number>; steps?: number; covered_by?: string | null; error: string | null; duration_ms: number | null }
      const counts = sync.counts ?? {}
      const summary = sync.covered_by ? 'covered by the run beside it' : sync.ok ? `ok, ${sync.changed ? 'key set changed' : 'no change'}, ${counts.apiKeys ?? 0} keys, ${counts.routes ?? 0} routes, ${sync.steps ?? 0} steps` : `FAILED: ${sync.error}`
      print(`[sync] ${new Date().toISOString()} ${sync.reason ?? 'scheduled'}: ${summary}${sync.duration_ms === null ? '' : ` (${sync.duration_ms} ms)`}`)
      return
    } catch {
      // Not the expected shape: printed as it is below.
    }
  }
  print(`[${worker}] ${line.message}`)
}

function scheduledRun(run: ScheduledRun): void {
  // A run that completed has printed its own [sync] line; only a handler that threw, or could not run, is reported here.
  if (run.outcome !== 'ok') console.error(`[sync] ${new Date().toISOString()} scheduled handler: ${run.outcome}${run.error ? ` (${run.error})` : ''} after ${run.durationMs} ms`)
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

async function main(): Promise<void> {
  const listenersBefore = new Set(SIGNALS.flatMap((signal) => process.listeners(signal)))
  const stack = await startStack({
    gatewayPort: intFromEnv(STACK_ENV.gatewayPort, 0, 65_535, 'a port number'),
    emulatorPort: intFromEnv(STACK_ENV.emulatorPort, 0, 65_535, 'a port number'),
    stateDir: process.env[STACK_ENV.stateDir.name] || STACK_ENV.stateDir.default,
    syncIntervalSeconds: intFromEnv(STACK_ENV.syncIntervalSeconds, 1, 86_400, 'a number of seconds'),
    memoryTtlSeconds: intFromEnv(STACK_ENV.memoryTtlSeconds, 1, 3600, 'a number of seconds'),
    onWorkerLog: workerLog,
    onScheduledRun: scheduledRun,
  })
  console.log(banner(stack))

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    console.log(`\n${signal}: stopping the local stack…`)
    stack.dispose().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('error while stopping:', error)
        process.exit(1)
      },
    )
  }
  for (const signal of SIGNALS) {
    // Miniflare's exit hook answers a signal with process.exit(128 + n) at once, before any
    // dispose could run; its 'exit' hook (which kills workerd) stays as a last resort.
    for (const listener of process.listeners(signal)) if (!listenersBefore.has(listener)) process.removeListener(signal, listener)
    process.on(signal, stop)
  }
}

main().catch((error: unknown) => {
  if (error instanceof StackError || error instanceof FixtureError || error instanceof SecretsFileError) console.error(`npm start: ${error.message}`)
  else console.error('npm start: the local stack could not start:', error)
  process.exit(1)
})
