/**
 * Every process the benchmark starts is registered here and stopped by its PID:
 * when its phase ends, when the benchmark fails, and on Ctrl-C (SIGINT) or SIGTERM.
 * Temporary directories likewise are removed whatever way the benchmark ends.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set<ChildProcess>()
const dirs = new Set<string>()

function removeDir(dir: string): void {
  dirs.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}
let hooked = false

function killNow(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  try {
    process.kill(child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

function hook(): void {
  if (hooked) return
  hooked = true
  // 'exit' handlers must be synchronous: SIGKILL each child we still own.
  process.on('exit', () => {
    children.forEach(killNow)
    dirs.forEach(removeDir)
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} process(es)\n`)
      children.forEach(killNow)
      process.exit(130)
    })
  }
}

/** Registers a child so that it is killed, by PID, whatever way the benchmark ends. */
export function own(child: ChildProcess): void {
  hook()
  children.add(child)
  child.once('exit', () => children.delete(child))
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stop(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  try {
    process.kill(child.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => killNow(child), graceMs)
  await exited
  clearTimeout(timer)
}

/** A new temporary directory, removed by `done()` or, at the latest, when the benchmark exits. */
export function tempDir(prefix: string): { path: string; done: () => void } {
  hook()
  const path = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(path)
  return { path, done: () => removeDir(path) }
}
