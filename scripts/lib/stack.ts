/**
 * The local stack behind `npm start`: the gateway Worker and the demo private
 * origins, each in workerd through Miniflare on 127.0.0.1, with the gateway's KV
 * persisted on disk and seeded from `fixtures/local-stack.json`.
 */
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as v from 'valibot'
import { anyGrantAllows } from '../../src/authz/grants.js'
import { writeKeySet, type WriteKeySetResult } from '../../src/keyset/writer.js'
import { bundleWorker } from './bundle.js'
import { buildKeySetSource, readLocalStackFixture, rebaseTargetUrl, type FixtureKey, type LocalStackFixture } from './fixture.js'
import { startOrigins, type RunningOrigins } from './origins.js'

const repoFile = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

/** Environment variables `npm start` reads, with their defaults. */
export const STACK_ENV = {
  gatewayPort: { name: 'EDGEGW_GATEWAY_PORT', default: 8787 },
  originsPort: { name: 'EDGEGW_ORIGINS_PORT', default: 8789 },
  stateDir: { name: 'EDGEGW_STATE_DIR', default: '.edgegw' },
} as const

/** Options of {@link startStack}; every field has a default. */
export interface StackOptions {
  /** Gateway port on 127.0.0.1; 0 picks a free one. Default 8787. */
  gatewayPort?: number
  /** Demo origins port on 127.0.0.1; 0 picks a free one. Default 8789. */
  originsPort?: number
  /** Directory of the stack's state (KV under `state/`, `dev-secrets.json`), resolved against the working directory. Default `.edgegw`. */
  stateDir?: string
  /** The fixture to seed. Default the repository's `fixtures/local-stack.json`. */
  fixturePath?: string
  /** Receives the Workers' console output (the gateway's access log). Default: dropped. */
  onWorkerLog?: (worker: 'gateway' | 'origins', line: { level: string; message: string }) => void
}

/** The local stack's secrets, kept in `<stateDir>/dev-secrets.json`. Local demo values only. */
export interface StackSecrets {
  /** The credential the gateway presents to the private origins (`ORIGIN_AUTH_TOKEN`). */
  originAuthToken: string
  /** The secret of each fixture key, by role. */
  apiKeys: { demo: string; noGrant: string }
}

/** One call a user can paste into another terminal, and the status it gets. */
export interface CurlLine {
  /** What the call shows. */
  title: string
  /** The HTTP status the call gets. */
  status: number
  /** A shell command that works as printed. */
  command: string
}

/** A running local stack. */
export interface RunningStack {
  /** e.g. `http://127.0.0.1:8787`, no trailing slash. */
  gatewayUrl: string
  /** e.g. `http://127.0.0.1:8789`, no trailing slash. */
  originsUrl: string
  secrets: StackSecrets
  /** Calls derived from the real ports, secrets and fixture grants. */
  curlLines: CurlLine[]
  /** Absolute state directory, its KV directory and its secrets file. */
  paths: { stateDir: string; kvDir: string; secretsFile: string }
  /** What seeding did (`changed: false` when the stored key set was already this one). */
  seeded: WriteKeySetResult
  /** Stops every workerd the stack started. Safe to call twice. */
  dispose(): Promise<void>
}

/** Why the stack could not start, with a message written for the person running it. */
export class StackError extends Error {
  override readonly name = 'StackError'
  constructor(
    readonly code: 'port_in_use' | 'port_forbidden' | 'secrets_invalid' | 'env_invalid',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Starts the gateway and the demo origins, seeds the key set, and returns the
 * URLs, secrets and ready-to-run curl lines. Secrets are created on first start
 * and reused after; KV state survives restarts.
 *
 * @throws {StackError} when a port is taken or the secrets file is unreadable.
 * @throws {FixtureError} when the fixture is invalid.
 * @example
 * ```ts
 * const stack = await startStack({ gatewayPort: 0, originsPort: 0, stateDir: tmp })
 * await fetch(`${stack.gatewayUrl}/hello`, { headers: { 'x-auth-token': stack.secrets.apiKeys.demo } })
 * await stack.dispose()
 * ```
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const stateDir = resolve(options.stateDir ?? STACK_ENV.stateDir.default)
  const paths = { stateDir, kvDir: join(stateDir, 'state', 'kv'), secretsFile: join(stateDir, 'dev-secrets.json') }
  const fixture = await readLocalStackFixture(options.fixturePath ?? repoFile('fixtures/local-stack.json'))
  const secrets = await loadOrCreateSecrets(paths.secretsFile)
  const gatewayPort = options.gatewayPort ?? STACK_ENV.gatewayPort.default
  const originsPort = options.originsPort ?? STACK_ENV.originsPort.default
  await assertPortFree(originsPort, 'demo origins', STACK_ENV.originsPort.name)
  await assertPortFree(gatewayPort, 'gateway', STACK_ENV.gatewayPort.name)
  const logTo = (worker: 'gateway' | 'origins') => (line: { level: string; message: string }) => options.onWorkerLog?.(worker, line)

  const started: { dispose(): Promise<void> }[] = []
  const disposeAll = async (): Promise<void> => {
    const all = started.splice(0)
    await Promise.allSettled(all.map((s) => s.dispose()))
  }
  try {
    const origins: RunningOrigins = await startOrigins({ port: originsPort, originToken: secrets.originAuthToken, handleStructuredLogs: logTo('origins') }).catch(
      (error: unknown) => Promise.reject(portError(error, originsPort, 'demo origins', STACK_ENV.originsPort.name)),
    )
    started.push(origins)
    const gateway = await startGateway({ port: gatewayPort, kvDir: paths.kvDir, originAuthToken: secrets.originAuthToken, handleStructuredLogs: logTo('gateway') })
    started.push(gateway)
    const source = await buildKeySetSource(fixture, { apiKeySecrets: secrets.apiKeys, originsUrl: origins.url })
    const seeded = await writeKeySet(await gateway.keySetKv(), source, { source: 'fixture' })
    const curlLines = buildCurlLines(fixture, { gatewayUrl: gateway.url, originsUrl: origins.url, secrets, fullAccessAllowsInvoke: gateway.fullAccessAllowsInvoke })
    return { gatewayUrl: gateway.url, originsUrl: origins.url, secrets, curlLines, paths, seeded, dispose: disposeAll }
  } catch (error) {
    await disposeAll()
    throw error
  }
}

interface RunningGateway {
  url: string
  fullAccessAllowsInvoke: boolean
  keySetKv(): Promise<{ get(key: string, options: { type: 'text' }): Promise<string | null>; put(key: string, value: string): Promise<void>; delete(key: string): Promise<void> }>
  dispose(): Promise<void>
}

/** The gateway Worker as `wrangler dev` would run it: wrangler.toml's compatibility date and vars, plus the secret. */
async function startGateway(options: {
  port: number
  kvDir: string
  originAuthToken: string
  handleStructuredLogs: NonNullable<MiniflareOptions['handleStructuredLogs']>
}): Promise<RunningGateway> {
  // wrangler's own reader, so the local gateway runs with exactly what wrangler.toml says.
  const { unstable_readConfig } = await import('wrangler')
  const config = unstable_readConfig({ config: repoFile('wrangler.toml') }, { hideWarnings: true })
  const vars = config.vars as Record<string, string>
  const mf = new Miniflare({
    name: 'gateway',
    modules: true,
    script: await bundleWorker(repoFile('src/worker.ts')),
    compatibilityDate: config.compatibility_date ?? '2026-04-20',
    compatibilityFlags: config.compatibility_flags,
    host: '127.0.0.1',
    port: options.port,
    kvNamespaces: { KEYSET: 'edgegw-local-keyset' },
    kvPersist: options.kvDir,
    bindings: { ...vars, ORIGIN_AUTH_TOKEN: options.originAuthToken },
    handleStructuredLogs: options.handleStructuredLogs,
  })
  let ready: URL
  try {
    ready = await mf.ready
  } catch (error) {
    await mf.dispose().catch(() => undefined)
    throw portError(error, options.port, 'gateway', STACK_ENV.gatewayPort.name)
  }
  return {
    url: ready.toString().replace(/\/$/, ''),
    fullAccessAllowsInvoke: vars.FULL_ACCESS_ALLOWS_INVOKE === 'true',
    keySetKv: async () => {
      const kv = await mf.getKVNamespace('KEYSET')
      return { get: (key, o) => kv.get(key, o), put: (key, value) => kv.put(key, value), delete: (key) => kv.delete(key) }
    },
    dispose: () => mf.dispose(),
  }
}

const UuidV4 = v.pipe(v.string(), v.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lower-case UUID v4'))
const SecretsFileSchema = v.object({ originAuthToken: UuidV4, apiKeys: v.object({ demo: UuidV4, noGrant: UuidV4 }) })

/**
 * Reads the stack's secrets, creating the file (mode 0600) with fresh UUIDs v4 on
 * first start. An existing but unreadable file is an error, never silently replaced.
 */
async function loadOrCreateSecrets(file: string): Promise<StackSecrets> {
  let text: string | undefined
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const reset = `delete it (or the whole state directory) to start afresh`
  if (text !== undefined) {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new StackError('secrets_invalid', `${file} is not valid JSON; ${reset}`)
    }
    const parsed = v.safeParse(SecretsFileSchema, json)
    if (parsed.success) return parsed.output
    // The message names the field only: the values are secrets.
    throw new StackError('secrets_invalid', `${file}: field "${v.getDotPath(parsed.issues[0]) ?? '(top level)'}" ${parsed.issues[0].message}; ${reset}`)
  }
  const secrets: StackSecrets = { originAuthToken: randomUUID(), apiKeys: { demo: randomUUID(), noGrant: randomUUID() } }
  const dir = join(file, '..')
  await mkdir(dir, { recursive: true })
  // The state directory is gitignored at the repository root; this covers any other location.
  await writeFile(join(dir, '.gitignore'), '# Local stack state and secrets: never commit.\n*\n', { flag: 'w' })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, file)
  return secrets
}

/** Fails early, and clearly, when a fixed port is already taken. */
async function assertPortFree(port: number, what: string, envVar: string): Promise<void> {
  if (port === 0) return
  await new Promise<void>((done, fail) => {
    const server = createServer()
    server.once('error', (error) => fail(portError(error, port, what, envVar)))
    server.listen(port, '127.0.0.1', () => server.close(() => done()))
  })
}

function portError(error: unknown, port: number, what: string, envVar: string): unknown {
  const code = (error as { code?: string } | undefined)?.code
  if (code === 'EADDRINUSE' || code === 'ERR_ADDRESS_IN_USE') {
    return new StackError('port_in_use', `Port ${port} (${what}) is already in use on 127.0.0.1. Stop whatever listens there, or choose another port: ${envVar}=<port> npm start`)
  }
  if (code === 'EACCES') return new StackError('port_forbidden', `Port ${port} (${what}) may not be opened by this user; choose another port: ${envVar}=<port> npm start`)
  return error
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

/**
 * The calls to try, from the real URLs and secrets; each status is what the gateway's
 * own grant check gives for the fixture's grants (200 allowed, 403 not).
 */
function buildCurlLines(
  fixture: LocalStackFixture,
  stack: { gatewayUrl: string; originsUrl: string; secrets: StackSecrets; fullAccessAllowsInvoke: boolean },
): CurlLine[] {
  const statusFor = (key: FixtureKey, route: LocalStackFixture['routes'][number]): number =>
    anyGrantAllows(key.grants, { target: route.target, organizationId: fixture.organizationId, fullAccessAllowsInvoke: stack.fullAccessAllowsInvoke }) ? 200 : 403
  const curl = (url: string, secret?: string): string => ['curl -sS -i', ...(secret ? ['-H', shellQuote(`X-Auth-Token: ${secret}`)] : []), shellQuote(url)].join(' ')
  const { demo, noGrant } = fixture.keys
  const lines: CurlLine[] = fixture.routes.map((route) => ({
    title: `demo key ${demo.accessKey} calls the private ${route.target.kind} behind ${route.paths[0]}`,
    status: statusFor(demo, route),
    command: curl(`${stack.gatewayUrl}${route.paths[0]}`, stack.secrets.apiKeys.demo),
  }))
  const first = fixture.routes[0]!
  const firstUrl = `${stack.gatewayUrl}${first.paths[0]}`
  lines.push(
    { title: `no credential on ${first.paths[0]}`, status: 401, command: curl(firstUrl) },
    { title: `key ${noGrant.accessKey}, whose application has no grant, on ${first.paths[0]}`, status: statusFor(noGrant, first), command: curl(firstUrl, stack.secrets.apiKeys.noGrant) },
  )
  const direct = rebaseTargetUrl(first.target.url, fixture.originsUrl, stack.originsUrl)
  if (new URL(direct).origin === new URL(stack.originsUrl).origin) {
    lines.push({ title: 'the private origin called directly, without the origin credential', status: 403, command: curl(direct) })
  }
  return lines
}
