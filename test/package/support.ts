/** Helpers of the `package` tests: commands of the repository, run without a shell. */
import { execFile, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A path inside the repository. */
export const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

/** What a finished command printed, and how it ended. */
export interface CommandResult {
  status: number
  stdout: string
  stderr: string
}

/** Runs a command of the repository (a binary of node_modules/.bin, or node) and never throws on a non-zero exit. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const file = command === 'node' || command === 'npm' ? command : repoPath(`node_modules/.bin/${command}`)
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd ?? repoPath('.'), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...options.env }, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ status, stdout, stderr })
    })
  })
}

/** Resolves with the first match of `pattern` in what the process printed (stdout, and stderr when piped); rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const streams = [child.stdout, child.stderr].filter((stream) => stream !== null)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8')
      const match = seen.match(pattern)
      if (match) {
        for (const stream of streams) stream.off('data', onData)
        resolve(match)
      }
    }
    for (const stream of streams) stream.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}; printed: ${seen}`)))
  })
}

/** Stops a process this test started (by its PID) with `signal` and resolves with its exit code. */
export function stopWith(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill(signal)
  })
}

/** Stops a process this test started (by its PID) and resolves with its exit code. */
export function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}
