/**
 * A secret is shown once: printed when it is created, or written to the file
 * `--secret-file` names (created with mode 0600, never overwritten). The file
 * is claimed before the gateway is asked, so a name that is taken fails the
 * command before a secret exists that nobody could read.
 */
import { open, rm, type FileHandle } from 'node:fs/promises'
import { UsageError } from './errors.js'

/** A `--secret-file` claimed for a secret to come. */
export interface SecretFile {
  path: string
  /** Writes the secret (its exact characters, no newline) and closes the file. */
  write(secret: string): Promise<void>
  /** Removes the empty file when no secret came (the gateway refused). */
  abandon(): Promise<void>
}

/**
 * Creates the file, empty, readable by its owner only.
 * @throws {UsageError} when it exists or cannot be created.
 */
export async function claimSecretFile(path: string): Promise<SecretFile> {
  let handle: FileHandle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (error) {
    const code = (error as { code?: string }).code
    throw new UsageError(code === 'EEXIST' ? `--secret-file: ${path} exists; secrets are never overwritten: choose a new file` : `--secret-file: cannot create ${path} (${code ?? 'error'})`)
  }
  let done = false
  return {
    path,
    async write(secret) {
      done = true
      await handle.writeFile(secret, 'utf8')
      await handle.chmod(0o600)
      await handle.close()
    },
    async abandon() {
      if (done) return
      done = true
      await handle.close()
      await rm(path, { force: true })
    },
  }
}

/**
 * Runs `create` with the secret file claimed first (when one is asked for), and
 * writes the secret `secretOf` picks from the answer into it.
 */
export async function withSecretFile<T>(path: string | undefined, create: () => Promise<T>, secretOf: (result: T) => string | undefined): Promise<T> {
  const file = path === undefined ? undefined : await claimSecretFile(path)
  let result: T
  try {
    result = await create()
  } catch (error) {
    await file?.abandon()
    throw error
  }
  const secret = secretOf(result)
  if (file) {
    if (secret === undefined) await file.abandon()
    else await file.write(secret)
  }
  return result
}

/**
 * Reads a secret piped on stdin (surrounding whitespace dropped). A terminal is
 * refused: what is typed there is echoed and kept in scroll-back.
 * @throws {UsageError} when stdin is a terminal, or nothing was piped.
 */
export async function readSecretFromStdin(stdin: NodeJS.ReadableStream & { isTTY?: boolean }, what: string): Promise<string> {
  if (stdin.isTTY) throw new UsageError(`${what}: pipe it on stdin (e.g. \`printf %s "$SECRET" | edgegw …\`) or pass --secret-from <file>; it is never read from the terminal or the command line`)
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  const secret = Buffer.concat(chunks).toString('utf8').trim()
  if (secret === '') throw new UsageError(`${what}: nothing on stdin`)
  return secret
}
