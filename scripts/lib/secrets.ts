/**
 * `<stateDir>/dev-secrets.json`: the local stack's secrets and the ids minted at
 * its first start, written (mode 0600) after every step of the seeding so that a
 * restart mints nothing twice, and a start interrupted half-way resumes.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import * as v from 'valibot'

const Uuid = v.pipe(v.string(), v.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID'))
const AccessKey = v.pipe(v.string(), v.regex(/^SCW[0-9A-Z]{17}$/, 'must look like SCWXXXXXXXXXXXXXXXXX'))
const Jwt = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a JWT'))
const Role = v.picklist(['gateway', 'origin', 'demo', 'noGrant'])

/** One IAM API key: its public access key and its secret. */
export const ApiKeySecretSchema = v.strictObject({ accessKey: AccessKey, secretKey: Uuid })
/** An IAM API key and its secret. */
export type ApiKeySecret = v.InferOutput<typeof ApiKeySecretSchema>

/** The file's shape. Everything but the two generated secrets appears as seeding goes. */
export const StackSecretsSchema = v.strictObject({
  /** The format of this file; an older one is refused with a reset hint. */
  version: v.literal(2),
  /** `EMULATOR_ADMIN_SECRET`: the emulator organisation owner's key (a UUID, as a secret key is). */
  emulatorAdminSecret: Uuid,
  /** `ADMIN_TOKEN`: bootstrap credential of the gateway's admin API. */
  adminToken: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 random bytes, base64url')),
  /** `CREDENTIAL_ENCRYPTION_KEY`: seals consumers' HMAC secrets in KV (added to older files at start). */
  credentialEncryptionKey: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 random bytes, base64url'))),
  /** Application ids, by role. */
  applications: v.optional(v.record(Role, Uuid), {}),
  /** Policy ids, by role (a role without grants has none). */
  policies: v.optional(v.record(Role, Uuid), {}),
  /** API keys, by role: `gateway` is `IAM_API_TOKEN`, `origin` is `ORIGIN_AUTH_TOKEN`. */
  apiKeys: v.optional(v.record(Role, ApiKeySecretSchema), {}),
  /** Namespace ids, by product. */
  namespaces: v.optional(v.record(v.picklist(['functions', 'containers']), Uuid), {}),
  /** Function ids, by name. */
  functions: v.optional(v.record(v.string(), Uuid), {}),
  /** Container ids, by name. */
  containers: v.optional(v.record(v.string(), Uuid), {}),
  /** The legacy token minted through the gateway. */
  legacyToken: v.optional(v.strictObject({ id: Uuid, namespaceId: Uuid, token: Jwt })),
})

/** The local stack's secrets and minted ids. Local demo values only. */
export type StackSecrets = v.InferOutput<typeof StackSecretsSchema>

/** Why the secrets file cannot be used, with a message written for the person running the stack. */
export class SecretsFileError extends Error {
  override readonly name = 'SecretsFileError'
  readonly code = 'secrets_invalid'
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' || rel.startsWith('..') || rel.startsWith(sep) ? path : rel
}

/** The reset hint every state error ends with. */
export function resetHint(stateDir: string): string {
  return `stop the stack and reset its state: rm -rf ${displayPath(stateDir)}`
}

/**
 * The secrets file: read on start, created with two fresh secrets when absent,
 * and saved (atomically, mode 0600) by {@link SecretsFile.update}.
 */
export class SecretsFile {
  private constructor(
    readonly path: string,
    private current: StackSecrets,
    /** `true` when this start created the file. */
    readonly created: boolean,
  ) {}

  /**
   * Opens the file, or creates it when there is none and the state directory holds
   * no other state (a lost secrets file beside an existing state cannot be recovered).
   *
   * @param hasOtherState Whether the state directory already holds Worker state.
   * @throws {SecretsFileError} naming the bad field (never its value), or the lost file.
   */
  static async open(path: string, stateDir: string, hasOtherState: boolean): Promise<SecretsFile> {
    let text: string | undefined
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    if (text === undefined) {
      if (hasOtherState) throw new SecretsFileError(`${path} is missing but ${stateDir} holds state it belongs to; ${resetHint(stateDir)}`)
      const fresh: StackSecrets = {
        version: 2,
        emulatorAdminSecret: randomUUID(),
        adminToken: randomBytes(32).toString('base64url'),
        credentialEncryptionKey: randomBytes(32).toString('base64url'),
        applications: {},
        policies: {},
        apiKeys: {},
        namespaces: {},
        functions: {},
        containers: {},
      }
      const file = new SecretsFile(path, fresh, true)
      await mkdir(dirname(path), { recursive: true })
      // The state directory is gitignored at the repository root; this covers any other location.
      await writeFile(join(dirname(path), '.gitignore'), '# Local stack state and secrets: never commit.\n*\n')
      await file.save()
      return file
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new SecretsFileError(`${path} is not valid JSON; ${resetHint(stateDir)}`)
    }
    if ((json as { version?: unknown } | null)?.version !== 2) {
      throw new SecretsFileError(`${path} was written by an older local stack (without the emulator); ${resetHint(stateDir)}`)
    }
    const parsed = v.safeParse(StackSecretsSchema, json)
    // The message names the field only: the values are secrets.
    if (!parsed.success) throw new SecretsFileError(`${path}: field "${v.getDotPath(parsed.issues[0]) ?? '(top level)'}" ${parsed.issues[0].message}; ${resetHint(stateDir)}`)
    const file = new SecretsFile(path, parsed.output, false)
    if (!parsed.output.credentialEncryptionKey) await file.update((secrets) => void (secrets.credentialEncryptionKey = randomBytes(32).toString('base64url')))
    return file
  }

  /** The secrets and ids recorded so far (a copy). */
  get secrets(): StackSecrets {
    return structuredClone(this.current)
  }

  /** Records what a seeding step minted, and saves at once. */
  async update(change: (secrets: StackSecrets) => void): Promise<void> {
    const next = structuredClone(this.current)
    change(next)
    this.current = v.parse(StackSecretsSchema, next)
    await this.save()
  }

  private async save(): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`
    await writeFile(temporary, `${JSON.stringify(this.current, null, 2)}\n`, { mode: 0o600 })
    await rename(temporary, this.path)
  }
}
