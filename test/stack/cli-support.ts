/** Runs the `edgegw` CLI as a process (bin/edgegw.js, as `npx edgegw` does), pointed at a stack. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RunningStack } from '../../scripts/lib/stack.js'

const BIN = fileURLToPath(new URL('../../bin/edgegw.js', import.meta.url))

/** What a run of the CLI gave. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `edgegw …args` with `EDGEGW_URL` and `EDGEGW_ADMIN_TOKEN` set to the stack's
 * (unless `env` overrides them); stdin is empty unless given; not a terminal.
 */
export function edgegw(stack: RunningStack, args: string[], options: { env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, EDGEGW_URL: stack.gatewayUrl, EDGEGW_ADMIN_TOKEN: stack.secrets.adminToken, ...options.env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
}

/** Runs the CLI and expects exit 0; returns stdout. */
export async function edgegwOk(stack: RunningStack, args: string[], options?: { env?: Record<string, string | undefined>; stdin?: string }): Promise<string> {
  const run = await edgegw(stack, args, options)
  if (run.code !== 0) throw new Error(`edgegw ${args.join(' ')} exited ${run.code}: ${run.stderr}`)
  return run.stdout
}

/** The rows of a table the CLI printed, split on runs of two or more spaces. */
export function tableRows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/))
}
