/**
 * The local stack behind `npm start`: the IAM + serverless API emulator and the
 * gateway, each in workerd through Miniflare on 127.0.0.1, state persisted on
 * disk, seeded through their APIs from `fixtures/local-stack.json`, with the
 * gateway's Cron Trigger run on a timer. See docs/local-stack.md.
 */
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Route } from '../../src/keyset/schema.js'
import { RESERVED_PREFIX } from '../../src/keyset/validate-routes.js'
import { buildCurlLines, edgegwExportLine, type CurlLine } from './curl.js'
import { readLocalStackFixture, type LocalStackFixture } from './fixture.js'
import { jsonApi } from './json-api.js'
import { assertPortFree, StackError, type PortSpec } from './ports.js'
import { SecretsFile, type StackSecrets } from './secrets.js'
import { seedEmulator, seedGateway, type SeedContext, type SeedReport } from './seed.js'
import { startSyncTimer, type ScheduledRun, type SyncTimer } from './sync-timer.js'
import { repoFile, startEmulator, startGateway, type KvReader, type RunningWorker } from './workers.js'

export { StackError } from './ports.js'
export type { CurlLine } from './curl.js'
export type { StackSecrets } from './secrets.js'

/** Environment variables `npm start` reads, with their defaults. */
export const STACK_ENV = {
  gatewayPort: { name: 'EDGEGW_GATEWAY_PORT', default: 8787 },
  emulatorPort: { name: 'EDGEGW_EMULATOR_PORT', default: 8788 },
  stateDir: { name: 'EDGEGW_STATE_DIR', default: '.edgegw' },
  syncIntervalSeconds: { name: 'EDGEGW_SYNC_INTERVAL_SECONDS', default: 60 },
  /** `npm start`'s KEYSET_MEMORY_TTL_SECONDS: short, so a change made with edgegw is served at once (startStack's own default is wrangler.toml's). */
  memoryTtlSeconds: { name: 'EDGEGW_MEMORY_TTL_SECONDS', default: 2 },
} as const

/**
 * Where the gateway mounts its admin API (`ADMIN_PREFIX` of src/admin/admin-api.ts,
 * which pulls in Worker-only types, so it is not imported here; a stack test checks they agree).
 */
export const ADMIN_PATH = `${RESERVED_PREFIX}/admin/v1`

/** Which Worker a log line comes from. */
export type StackWorker = 'gateway' | 'emulator'

/** Options of {@link startStack}; every field has a default. */
export interface StackOptions {
  /** Gateway port on 127.0.0.1; 0 picks a free one. Default 8787. */
  gatewayPort?: number
  /** Emulator port on 127.0.0.1; 0 picks a free one. Default 8788. */
  emulatorPort?: number
  /** Directory of the stack's state (`state/`, `dev-secrets.json`), resolved against the working directory. Default `.edgegw`. */
  stateDir?: string
  /** The fixture to seed. Default the repository's `fixtures/local-stack.json`. */
  fixturePath?: string
  /** Seconds between two runs of the gateway's `scheduled` handler; 0 runs none. Default 60. */
  syncIntervalSeconds?: number
  /** The gateway's `KEYSET_MEMORY_TTL_SECONDS`. Default: wrangler.toml's (30). */
  memoryTtlSeconds?: number
  /** The gateway's `IAM_API_TIMEOUT_MS` and `IAM_API_ATTEMPTS`. Default: wrangler.toml's (10000, 4). */
  iamApi?: { timeoutMs: number; attempts: number }
  /** The sync Workflow's `SYNC_STEP_RETRIES` and `SYNC_STEP_RETRY_DELAY_SECONDS`. Default: wrangler.toml's (5, 2). */
  syncStepRetries?: { limit: number; delaySeconds: number }
  /** Receives the Workers' console output (the gateway's access log and sync lines). Default: dropped. */
  onWorkerLog?: (worker: StackWorker, line: { level: string; message: string }) => void
  /** Told of every timed run of `scheduled`. Default: nothing. */
  onScheduledRun?: (run: ScheduledRun) => void
}

/** A running local stack. */
export interface RunningStack {
  /** e.g. `http://127.0.0.1:8787`, no trailing slash. */
  gatewayUrl: string
  /** e.g. `http://127.0.0.1:8788`, no trailing slash. */
  emulatorUrl: string
  /** The gateway's admin API, e.g. `http://127.0.0.1:8787/__edgegw/admin/v1`. */
  adminUrl: string
  fixture: LocalStackFixture
  /** Secrets and minted ids, as kept in the secrets file. */
  secrets: StackSecrets
  /** The routes the gateway serves. */
  routes: Route[]
  /** Calls derived from the real ports, secrets and routes. */
  curlLines: CurlLine[]
  /** `export EDGEGW_URL=… EDGEGW_ADMIN_TOKEN=…`: the line that points `edgegw` at this stack. */
  edgegwEnv: string
  /** Absolute paths of the state. */
  paths: { stateDir: string; secretsFile: string; kvDir: string; durableObjectsDir: string; emulatorDir: string }
  /** What seeding did; `created` is empty on a restart. */
  seeded: SeedReport
  /** Seconds between timed `scheduled` runs; 0 when off. */
  syncIntervalSeconds: number
  /** The gateway's `KEYSET` KV namespace, to read (tests compare its contents). */
  gatewayKv(): Promise<KvReader>
  /** Runs the gateway's `scheduled` handler once, now. */
  triggerScheduled(): Promise<{ outcome: string }>
  /** Stops the timer and every workerd the stack started. Safe to call twice. */
  dispose(): Promise<void>
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/**
 * Starts the emulator and the gateway, seeds them, starts the sync timer and
 * returns URLs, secrets and ready-to-run curl lines. Secrets and ids are created
 * at the first start and reused after; state survives restarts.
 *
 * @throws {StackError} when a port is taken, the state is incomplete (with a reset hint) or the first sync fails.
 * @throws {SecretsFileError} when the secrets file is unreadable.
 * @throws {FixtureError} when the fixture is invalid.
 * @example
 * ```ts
 * const stack = await startStack({ gatewayPort: 0, emulatorPort: 0, stateDir: tmp, syncIntervalSeconds: 0 })
 * await fetch(`${stack.gatewayUrl}/hello`, { headers: { 'x-auth-token': stack.secrets.apiKeys.demo!.secretKey } })
 * await stack.dispose()
 * ```
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const stateDir = resolve(options.stateDir ?? STACK_ENV.stateDir.default)
  const paths = {
    stateDir,
    secretsFile: join(stateDir, 'dev-secrets.json'),
    kvDir: join(stateDir, 'state', 'kv'),
    durableObjectsDir: join(stateDir, 'state', 'durable-objects'),
    emulatorDir: join(stateDir, 'state', 'emulator'),
  }
  const syncIntervalSeconds = options.syncIntervalSeconds ?? STACK_ENV.syncIntervalSeconds.default
  if (!(syncIntervalSeconds >= 0)) throw new StackError('env_invalid', `syncIntervalSeconds must be 0 or more, got ${syncIntervalSeconds}`)
  const fixture = await readLocalStackFixture(options.fixturePath ?? repoFile('fixtures/local-stack.json'))
  const file = await SecretsFile.open(paths.secretsFile, stateDir, await exists(join(stateDir, 'state')))
  const emulatorPort: PortSpec = { port: options.emulatorPort ?? STACK_ENV.emulatorPort.default, what: 'emulator', envVar: STACK_ENV.emulatorPort.name }
  const gatewayPort: PortSpec = { port: options.gatewayPort ?? STACK_ENV.gatewayPort.default, what: 'gateway', envVar: STACK_ENV.gatewayPort.name }
  await assertPortFree(emulatorPort)
  await assertPortFree(gatewayPort)
  const logTo = (worker: StackWorker) => (line: { level: string; message: string }) => options.onWorkerLog?.(worker, line)

  const started: { dispose(): Promise<void> }[] = []
  let timer: SyncTimer | undefined
  const disposeAll = async (): Promise<void> => {
    await timer?.stop()
    timer = undefined
    const all = started.splice(0).reverse()
    for (const worker of all) await worker.dispose().catch(() => undefined)
  }
  try {
    const emulator: RunningWorker = await startEmulator({
      port: emulatorPort,
      persistDir: paths.emulatorDir,
      adminSecret: file.secrets.emulatorAdminSecret,
      organizationId: fixture.organizationId,
      handleStructuredLogs: logTo('emulator'),
    })
    started.push(emulator)
    const ctx: SeedContext = { fixture, file, stateDir, emulator: jsonApi(emulator.url, file.secrets.emulatorAdminSecret), created: [] }
    await seedEmulator(ctx)

    const secrets = file.secrets
    const gateway = await startGateway({
      port: gatewayPort,
      kvDir: paths.kvDir,
      durableObjectsDir: paths.durableObjectsDir,
      bindings: {
        IAM_API_URL: emulator.url,
        SCW_ORGANIZATION_ID: fixture.organizationId,
        IAM_API_TOKEN: secrets.apiKeys.gateway!.secretKey,
        ORIGIN_AUTH_TOKEN: secrets.apiKeys.origin!.secretKey,
        ADMIN_TOKEN: secrets.adminToken,
        CREDENTIAL_ENCRYPTION_KEY: secrets.credentialEncryptionKey!,
        // The private origins are the emulator's http://127.0.0.1 platform endpoints.
        ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true',
        // Miniflare fills CF-Connecting-IP from the connection only when the client sent
        // none, so here it is the client's to choose: no header names the client's address.
        CLIENT_IP_HEADER: 'none',
        // Routes made from a name (edgegw route add --target function:hello) go where the seeded ones do.
        TARGET_URL_TEMPLATE: `${emulator.url}/platform/{product}/{id}`,
        ...(options.memoryTtlSeconds !== undefined ? { KEYSET_MEMORY_TTL_SECONDS: String(options.memoryTtlSeconds) } : {}),
        ...(options.iamApi ? { IAM_API_TIMEOUT_MS: String(options.iamApi.timeoutMs), IAM_API_ATTEMPTS: String(options.iamApi.attempts) } : {}),
        ...(options.syncStepRetries ? { SYNC_STEP_RETRIES: String(options.syncStepRetries.limit), SYNC_STEP_RETRY_DELAY_SECONDS: String(options.syncStepRetries.delaySeconds) } : {}),
      },
      handleStructuredLogs: logTo('gateway'),
    })
    started.push(gateway)
    const adminUrl = `${gateway.url}${ADMIN_PATH}`
    const seeded = await seedGateway(ctx, { admin: jsonApi(adminUrl, secrets.adminToken), kv: await gateway.keySetKv(), emulatorUrl: emulator.url })

    const final = file.secrets
    const curlLines = buildCurlLines({
      fixture,
      routes: seeded.routes,
      gatewayUrl: gateway.url,
      emulatorUrl: emulator.url,
      adminPrefix: ADMIN_PATH,
      secrets: final,
      fullAccessAllowsInvoke: gateway.fullAccessAllowsInvoke,
    })
    if (syncIntervalSeconds > 0) timer = startSyncTimer(syncIntervalSeconds, () => gateway.triggerScheduled(), options.onScheduledRun)
    return {
      gatewayUrl: gateway.url,
      emulatorUrl: emulator.url,
      adminUrl,
      fixture,
      secrets: final,
      routes: seeded.routes,
      curlLines,
      edgegwEnv: edgegwExportLine(gateway.url, final.adminToken),
      paths,
      seeded,
      syncIntervalSeconds,
      gatewayKv: () => gateway.keySetKv(),
      triggerScheduled: () => gateway.triggerScheduled(),
      dispose: disposeAll,
    }
  } catch (error) {
    await disposeAll()
    throw error
  }
}
