/**
 * Seeding of the local stack, through the APIs only: the emulator's API (with
 * its admin secret) for IAM and serverless resources, the gateway's admin API
 * (with ADMIN_TOKEN) for what the gateway must capture (key digests, the
 * namespace key of a legacy token), the routes and the first sync.
 *
 * Every id and secret minted is recorded in the secrets file at once. On a
 * restart a recorded resource is checked, never minted again; one that is gone
 * (the state directory was partly deleted) stops the start with a reset hint.
 */
import { registryKeys } from '../../src/sync/registry.js'
import type { Route } from '../../src/keyset/schema.js'
import { APPLICATION_ROLES, buildRoutes, grantToRule, type ApplicationRole, type LocalStackFixture } from './fixture.js'
import type { JsonApi } from './json-api.js'
import { StackError } from './ports.js'
import { resetHint, type SecretsFile } from './secrets.js'
import type { KvReader } from './workers.js'

/** What seeding did. */
export interface SeedReport {
  /** What this start created, e.g. `application edge-gateway`; empty on a restart. */
  created: string[]
  /** The routes the gateway serves (targets on the emulator's platform endpoints). */
  routes: Route[]
  /** Whether the routes were (re)written (first start, or the emulator's port changed). */
  routesWritten: boolean
  /** The snapshot the gateway serves after the first sync. */
  snapshotId: string
  /** Syncs run until the key set was stable. */
  syncs: number
}

/** Shared by both phases. */
export interface SeedContext {
  fixture: LocalStackFixture
  file: SecretsFile
  stateDir: string
  /** The emulator's API, as its organisation owner (the admin secret). */
  emulator: JsonApi
  created: string[]
}

const IAM = '/iam/v1alpha1'
const serverless = (fixture: LocalStackFixture, product: 'functions' | 'containers') => `/${product}/v1beta1/regions/${fixture.region}`

/** A recorded resource that no longer exists: the state was partly deleted. */
function gone(ctx: SeedContext, what: string): StackError {
  return new StackError('state_incomplete', `${what}, recorded in ${ctx.file.path}, no longer exists: the state directory was partly deleted; ${resetHint(ctx.stateDir)}`)
}

/** Checks a recorded id, or creates the resource and records it. */
async function ensure(ctx: SeedContext, what: string, recorded: string | undefined, path: (id: string) => string, create: () => Promise<void>): Promise<void> {
  if (recorded !== undefined) {
    if (!(await ctx.emulator.exists(path(recorded)))) throw gone(ctx, `${what} ${recorded}`)
    return
  }
  await create()
  ctx.created.push(what)
}

/**
 * Phase 1, before the gateway starts (it needs the two keys made here):
 * applications, policies, the gateway's and the origin's keys, namespaces,
 * functions and containers, in the emulator.
 *
 * @throws {StackError} `state_incomplete` when a recorded resource is gone or the emulator has another organisation.
 */
export async function seedEmulator(ctx: SeedContext): Promise<void> {
  const { fixture, emulator, file } = ctx
  const info = await emulator.call<{ organization_id: string }>('GET', '/emulator/info')
  if (info.organization_id !== fixture.organizationId) {
    throw new StackError('state_incomplete', `the emulator's state belongs to organisation ${info.organization_id}, the fixture to ${fixture.organizationId}; ${resetHint(ctx.stateDir)}`)
  }
  for (const role of APPLICATION_ROLES) {
    const spec = fixture.applications[role]
    await ensure(ctx, `application ${spec.name}`, file.secrets.applications[role], (id) => `${IAM}/applications/${id}`, async () => {
      const app = await emulator.call<{ id: string }>('POST', `${IAM}/applications`, { name: spec.name, description: spec.description, organization_id: fixture.organizationId })
      await file.update((s) => void (s.applications[role] = app.id))
    })
    if (spec.grants.length === 0) continue
    await ensure(ctx, `policy ${spec.name}-policy`, file.secrets.policies[role], (id) => `${IAM}/policies/${id}`, async () => {
      const policy = await emulator.call<{ id: string }>('POST', `${IAM}/policies`, {
        name: `${spec.name}-policy`,
        description: `local stack: the rules of ${spec.name}`,
        organization_id: fixture.organizationId,
        application_id: file.secrets.applications[role],
        rules: spec.grants.map(grantToRule),
      })
      await file.update((s) => void (s.policies[role] = policy.id))
    })
  }
  for (const role of ['gateway', 'origin'] as const) await ensureEmulatorKey(ctx, role)

  for (const product of ['functions', 'containers'] as const) {
    const base = serverless(fixture, product)
    const name = fixture.namespaces[product].name
    await ensure(ctx, `${product} namespace ${name}`, file.secrets.namespaces[product], (id) => `${base}/namespaces/${id}`, async () => {
      const ns = await emulator.call<{ id: string }>('POST', `${base}/namespaces`, { name, project_id: fixture.projectId, description: 'local stack demo namespace' })
      await file.update((s) => void (s.namespaces[product] = ns.id))
    })
    for (const item of fixture[product]) {
      const kind = product === 'functions' ? 'function' : 'container'
      await ensure(ctx, `${kind} ${item.name}`, file.secrets[product][item.name], (id) => `${base}/${product}/${id}`, async () => {
        const extra = 'runtime' in item ? { runtime: item.runtime } : item.registryImage ? { registry_image: item.registryImage } : {}
        const body = { name: item.name, namespace_id: file.secrets.namespaces[product], privacy: item.privacy, description: 'local stack demo', ...extra }
        const created = await emulator.call<{ id: string }>('POST', `${base}/${product}`, body)
        await file.update((s) => void (s[product][item.name] = created.id))
        await emulator.call('POST', `${base}/${product}/${created.id}/deploy`, {})
      })
    }
  }
}

/** The gateway's own keys, minted through the emulator's IAM API: the gateway is not running yet. */
async function ensureEmulatorKey(ctx: SeedContext, role: 'gateway' | 'origin'): Promise<void> {
  const { fixture, emulator, file } = ctx
  const name = fixture.applications[role].name
  await ensure(ctx, `API key of ${name}`, file.secrets.apiKeys[role]?.accessKey, (ak) => `${IAM}/api-keys/${ak}`, async () => {
    const key = await emulator.call<{ access_key: string; secret_key: string }>('POST', `${IAM}/api-keys`, {
      application_id: file.secrets.applications[role],
      description: role === 'gateway' ? 'edge gateway: IAM_API_TOKEN (sync, minting)' : 'edge gateway: ORIGIN_AUTH_TOKEN (calls private origins)',
      default_project_id: fixture.projectId,
    })
    await file.update((s) => void (s.apiKeys[role] = { accessKey: key.access_key, secretKey: key.secret_key }))
  })
}

/**
 * Phase 2, once the gateway runs: the routes (first, so every sync the admin API
 * starts in the background already has them), the legacy token, the client
 * keys, then syncs until the key set is stable.
 *
 * @throws {StackError} `state_incomplete` when something recorded is gone; `seed_failed` when the sync does not answer ok.
 */
export async function seedGateway(ctx: SeedContext, gateway: { admin: JsonApi; kv: KvReader; emulatorUrl: string }): Promise<SeedReport> {
  const { fixture, file } = ctx
  const { admin, kv } = gateway
  const captured = async (key: string, what: string): Promise<void> => {
    if ((await kv.get(key, { type: 'text' })) === null) throw gone(ctx, `the gateway's capture of ${what}`)
  }

  const routes = buildRoutes(fixture, { namespaces: requireNamespaces(ctx), functions: file.secrets.functions, containers: file.secrets.containers }, gateway.emulatorUrl)
  const current = await admin.call<{ routes: Route[] }>('GET', '/routes')
  const routesWritten = JSON.stringify(current.routes) !== JSON.stringify(routes)
  if (routesWritten) await admin.call('PUT', '/routes', { routes })

  const product = fixture.legacyToken.product
  const namespaceId = requireNamespaces(ctx)[product]
  const recordedToken = file.secrets.legacyToken
  await ensure(ctx, `legacy token of the ${product} namespace`, recordedToken?.id, (id) => `${serverless(fixture, product)}/tokens/${id}`, async () => {
    const token = await admin.call<{ id: string; token: string; public_key_captured: boolean }>('POST', '/legacy-tokens', {
      product,
      namespace_id: namespaceId,
      description: fixture.legacyToken.description,
    })
    if (!token.public_key_captured) throw new StackError('seed_failed', 'the gateway minted the legacy token but did not capture the namespace public key')
    await file.update((s) => void (s.legacyToken = { id: token.id, namespaceId, token: token.token }))
  })
  if (recordedToken) await captured(registryKeys.namespaceKey(recordedToken.namespaceId), `the ${product} namespace key`)

  for (const role of ['demo', 'noGrant'] as const satisfies readonly ApplicationRole[]) {
    const name = fixture.applications[role].name
    const recorded = file.secrets.apiKeys[role]
    await ensure(ctx, `API key of ${name}`, recorded?.accessKey, (ak) => `${IAM}/api-keys/${ak}`, async () => {
      const key = await admin.call<{ access_key: string; secret_key: string }>('POST', '/api-keys', {
        application_id: file.secrets.applications[role],
        description: `local stack: ${name}`,
        default_project_id: fixture.projectId,
      })
      await file.update((s) => void (s.apiKeys[role] = { accessKey: key.access_key, secretKey: key.secret_key }))
    })
    if (recorded) await captured(registryKeys.apiKey(recorded.accessKey), `key ${recorded.accessKey}`)
  }
  return { created: ctx.created, routes, routesWritten, ...(await syncUntilStable(admin)) }
}

function requireNamespaces(ctx: SeedContext): { functions: string; containers: string } {
  const { functions, containers } = ctx.file.secrets.namespaces
  if (!functions || !containers) throw new StackError('seed_failed', 'the namespaces were not created')
  return { functions, containers }
}

interface SyncAnswer {
  ok: boolean
  changed: boolean
  write: { snapshotId: string } | null
  status: { lastError: { message: string } | null }
}

/**
 * Runs `POST /sync` until two answers in a row change nothing. Minting through
 * the admin API also starts a sync in the background, and concurrent syncs are
 * last-writer-wins: one that read IAM before the last mint can land after a newer
 * one. Two unchanged answers in a row mean those have landed and been corrected.
 *
 * @throws {StackError} `seed_failed` when a sync does not answer ok.
 */
async function syncUntilStable(admin: JsonApi): Promise<{ snapshotId: string; syncs: number }> {
  let unchangedInARow = 0
  for (let syncs = 1; syncs <= 8; syncs++) {
    const answer = await admin.send<SyncAnswer>('POST', '/sync', {})
    if (answer.status !== 200 || !answer.body.ok) {
      throw new StackError('seed_failed', `the gateway's sync failed (${answer.status}): ${answer.body?.status?.lastError?.message ?? JSON.stringify(answer.body).slice(0, 300)}`)
    }
    unchangedInARow = answer.body.changed ? 0 : unchangedInARow + 1
    if (unchangedInARow === 2) return { snapshotId: answer.body.write!.snapshotId, syncs }
  }
  throw new StackError('seed_failed', 'the key set kept changing across 8 syncs in a row')
}
