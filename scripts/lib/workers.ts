/**
 * The local stack's two Workers, each in its own workerd through Miniflare on
 * 127.0.0.1, configured from their own wrangler.toml (read with wrangler's own
 * reader, as `wrangler dev` would) and bundled with esbuild.
 */
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorker } from './bundle.js'
import { portError, type PortSpec } from './ports.js'

/** A path inside the repository. */
export const repoFile = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

type LogHandler = NonNullable<MiniflareOptions['handleStructuredLogs']>

/** The subset of a KV namespace the stack and its tests read. */
export interface KvReader {
  get(key: string, options: { type: 'text' }): Promise<string | null>
  list(options?: { prefix?: string; cursor?: string | null; limit?: number }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>
}

/** A Worker running in workerd. */
export interface RunningWorker {
  /** e.g. `http://127.0.0.1:8788`, no trailing slash. */
  url: string
  dispose(): Promise<void>
}

/** The running gateway: its URL, its KV (read-only here) and its Cron Trigger. */
export interface RunningGateway extends RunningWorker {
  /** The `KEYSET` namespace, as the Worker sees it. */
  keySetKv(): Promise<KvReader>
  /** Runs the Worker's `scheduled` handler once, as the Cron Trigger does (it starts a sync run); resolves with its outcome. */
  triggerScheduled(): Promise<{ outcome: string }>
  /** The Cron Trigger of wrangler.toml (`*\/5 * * * *`), passed to `scheduled`. */
  cron: string
  /** Whether FULL_ACCESS_ALLOWS_INVOKE is on (it changes which grants allow). */
  fullAccessAllowsInvoke: boolean
}

async function wranglerOptions(configPath: string) {
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import('wrangler')
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath)
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true })
  return { workerOptions, crons: config.triggers?.crons ?? [] }
}

async function ready(mf: Miniflare, port: PortSpec): Promise<string> {
  try {
    return (await mf.ready).toString().replace(/\/$/, '')
  } catch (error) {
    // A failed start leaves nothing to dispose but may reject again; the start error is the one to report.
    await mf.dispose().catch(() => undefined)
    throw portError(error, port)
  }
}

/**
 * Starts the IAM + serverless API emulator (`src/emulator/worker.ts`) with its
 * SQLite Durable Object persisted under `persistDir`.
 *
 * @throws {StackError} when the port is taken.
 */
export async function startEmulator(options: {
  port: PortSpec
  persistDir: string
  adminSecret: string
  /** Used at the emulator's first start only; it keeps its organisation after. */
  organizationId: string
  handleStructuredLogs?: LogHandler
}): Promise<RunningWorker> {
  const { workerOptions } = await wranglerOptions(repoFile('src/emulator/wrangler.toml'))
  const mf = new Miniflare({
    name: 'emulator',
    modules: true,
    script: await bundleWorker(repoFile('src/emulator/worker.ts')),
    compatibilityDate: workerOptions.compatibilityDate ?? '2026-04-20',
    compatibilityFlags: workerOptions.compatibilityFlags ?? [],
    // From wrangler.toml: EMULATOR → EmulatorStore, SQLite-backed (new_sqlite_classes).
    durableObjects: workerOptions.durableObjects ?? {},
    durableObjectsPersist: options.persistDir,
    host: '127.0.0.1',
    port: options.port.port,
    bindings: { ...workerOptions.bindings, EMULATOR_ADMIN_SECRET: options.adminSecret, EMULATOR_ORGANIZATION_ID: options.organizationId },
    ...(options.handleStructuredLogs ? { handleStructuredLogs: options.handleStructuredLogs } : {}),
  })
  const url = await ready(mf, options.port)
  return { url, dispose: () => mf.dispose() }
}

/** The gateway's secrets and the vars the stack sets on top of wrangler.toml's. */
export interface GatewayBindings {
  IAM_API_URL: string
  SCW_ORGANIZATION_ID: string
  IAM_API_TOKEN: string
  ORIGIN_AUTH_TOKEN: string
  ADMIN_TOKEN: string
  CREDENTIAL_ENCRYPTION_KEY: string
  /** `"true"`: the emulator's platform endpoints are http://127.0.0.1. */
  ALLOW_INSECURE_LOOPBACK_ORIGINS: string
  /** `"none"`: Miniflare keeps a client-sent CF-Connecting-IP, so the local gateway trusts no client-IP header. */
  CLIENT_IP_HEADER: string
  /** The emulator's platform endpoint of a function or container, for routes made from a name. */
  TARGET_URL_TEMPLATE: string
  KEYSET_MEMORY_TTL_SECONDS?: string
  IAM_API_TIMEOUT_MS?: string
  IAM_API_ATTEMPTS?: string
}

/**
 * Starts the gateway (`src/worker.ts`) with wrangler.toml's compatibility date,
 * vars, KV binding, sync Workflow, key-set owner and usage ledger (SQLite Durable Objects), the
 * given bindings on top, KV persisted under `kvDir`, the owner and the Workflow's
 * runs under `durableObjectsDir` and `workflowsDir` (default: beside `kvDir`).
 *
 * @throws {StackError} when the port is taken.
 */
export async function startGateway(options: {
  port: PortSpec
  kvDir: string
  durableObjectsDir?: string
  workflowsDir?: string
  bindings: GatewayBindings
  handleStructuredLogs?: LogHandler
}): Promise<RunningGateway> {
  const { workerOptions, crons } = await wranglerOptions(repoFile('wrangler.toml'))
  const bindings: Record<string, string> = { ...(workerOptions.bindings as Record<string, string>), ...options.bindings }
  const mf = new Miniflare({
    name: 'gateway',
    modules: true,
    script: await bundleWorker(repoFile('src/worker.ts')),
    compatibilityDate: workerOptions.compatibilityDate ?? '2026-04-20',
    compatibilityFlags: workerOptions.compatibilityFlags ?? [],
    kvNamespaces: workerOptions.kvNamespaces ?? { KEYSET: 'edgegw-local-keyset' },
    kvPersist: options.kvDir,
    // From wrangler.toml: USAGE → UsageLedger, KEYSET_WRITER → ManifestOwner (both SQLite), SYNC_WORKFLOW → SyncWorkflow.
    durableObjects: workerOptions.durableObjects ?? {},
    durableObjectsPersist: options.durableObjectsDir ?? join(dirname(options.kvDir), 'keyset-owner'),
    workflows: workerOptions.workflows ?? {},
    workflowsPersist: options.workflowsDir ?? join(dirname(options.kvDir), 'workflows'),
    host: '127.0.0.1',
    port: options.port.port,
    bindings,
    ...(options.handleStructuredLogs ? { handleStructuredLogs: options.handleStructuredLogs } : {}),
  })
  const url = await ready(mf, options.port)
  const cron = crons[0] ?? '*/5 * * * *'
  return {
    url,
    cron,
    fullAccessAllowsInvoke: bindings.FULL_ACCESS_ALLOWS_INVOKE === 'true',
    keySetKv: async () => (await mf.getKVNamespace('KEYSET')) as unknown as KvReader,
    triggerScheduled: async () => {
      const worker = await mf.getWorker()
      const result = await worker.scheduled({ cron, scheduledTime: new Date() })
      return { outcome: result.outcome }
    },
    dispose: () => mf.dispose(),
  }
}
