/**
 * Confirmation before what cannot be undone (`key revoke`, `consumer rm`…), as
 * `gh` does it: asked on a terminal, `--yes` required anywhere else, so a
 * script says what it means.
 */
import { createInterface } from 'node:readline/promises'
import { UsageError } from './errors.js'
import type { Io } from './output.js'

/**
 * Resolves when the user confirmed (or passed `--yes`).
 * @returns false when the user answered anything but yes.
 * @throws {UsageError} when stdin is not a terminal and `--yes` was not given.
 */
export async function confirmed(io: Io, question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true
  if (!io.stdin.isTTY) throw new UsageError(`${question.replace(/\?$/, '')}: pass --yes to confirm when not running in a terminal`)
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
