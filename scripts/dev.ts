/**
 * `npm start`: runs the local stack (docs/local-stack.md) until Ctrl-C or SIGTERM.
 *
 * Environment: EDGEGW_GATEWAY_PORT (8787), EDGEGW_ORIGINS_PORT (8789),
 * EDGEGW_STATE_DIR (.edgegw).
 */
import { relative, sep } from 'node:path'
import { FixtureError } from './lib/fixture.js'
import { STACK_ENV, StackError, startStack, type RunningStack } from './lib/stack.js'

/** Reads a port variable: an integer from 0 (any free port) to 65535. */
function portFromEnv(variable: { name: string; default: number }): number {
  const raw = process.env[variable.name]
  if (raw === undefined || raw.trim() === '') return variable.default
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new StackError('env_invalid', `${variable.name} must be a port number from 0 to 65535, got "${raw}"`)
  }
  return port
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' || rel.startsWith('..') || rel.startsWith(sep) ? path : rel
}

function banner(stack: RunningStack): string {
  const calls = stack.curlLines.flatMap((line) => [`  # ${line.status}: ${line.title}`, `  ${line.command}`, ''])
  const seeded = stack.seeded.changed ? `seeded (snapshot ${stack.seeded.snapshotId.slice(0, 8)})` : 'already up to date'
  return [
    '',
    'edge-auth-gateway local stack is ready',
    '',
    `  gateway        ${stack.gatewayUrl}   src/worker.ts; key set from fixtures/local-stack.json, ${seeded}`,
    `  demo origins   ${stack.originsUrl}   private: 403 without the gateway's origin credential`,
    '',
    'Try it from another terminal:',
    '',
    ...calls,
    `State (kept across restarts): ${shown(stack.paths.stateDir)}`,
    `  KV:      ${shown(stack.paths.kvDir)}`,
    `  secrets: ${shown(stack.paths.secretsFile)} (local demo values; never commit them)`,
    `Reset: stop the stack, then  rm -rf ${shown(stack.paths.stateDir)}`,
    'Stop: Ctrl-C',
    '',
  ].join('\n')
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

async function main(): Promise<void> {
  const listenersBefore = new Set(SIGNALS.flatMap((signal) => process.listeners(signal)))
  const stack = await startStack({
    gatewayPort: portFromEnv(STACK_ENV.gatewayPort),
    originsPort: portFromEnv(STACK_ENV.originsPort),
    stateDir: process.env[STACK_ENV.stateDir.name] || STACK_ENV.stateDir.default,
    onWorkerLog: (worker, line) => (line.level === 'error' || line.level === 'warn' ? console.error : console.log)(`[${worker}] ${line.message}`),
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
  if (error instanceof StackError || error instanceof FixtureError) console.error(`npm start: ${error.message}`)
  else console.error('npm start: the local stack could not start:', error)
  process.exit(1)
})
