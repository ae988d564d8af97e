/**
 * What every admin change does once it is saved: sync the key set, wait for it
 * (bounded), and make this isolate serve the new key set from its next request.
 * docs/revocation.md, "Changes made through the admin API".
 */
import type { Context } from 'hono'
import type { Manifest } from '../keyset/schema.js'
import type { KeySetView, StoreContext } from '../keyset/store.js'
import type { SyncOutcome } from '../sync/run-sync.js'

/**
 * How far a change got when its admin call answered, sent as {@link SYNC_HEADER}:
 * `synced`: a sync that started after the change has written the key set, and this
 * isolate serves it from its next request (other isolates within the bound of
 * docs/revocation.md); `pending`: the sync still runs, in the background, after the
 * wait; `failed`: the change is saved, the sync failed (`GET /status` says why), and
 * it takes effect with the next successful sync.
 */
export type KeySetChangeState = 'synced' | 'pending' | 'failed'

/** The response header that carries the {@link KeySetChangeState} of a change. */
export const SYNC_HEADER = 'x-edgegw-sync'

/** Milliseconds a change waits for its sync before answering `pending`, by default. */
export const CHANGE_SYNC_WAIT_MS = 10_000

/** The part of the key-set store the admin API tells of a change (`KvKeySetStore`). */
export interface ChangeableKeySet {
  invalidate(written?: Manifest): void
  current(context: StoreContext): Promise<KeySetView>
}

/** A sync's outcome as its caller waited for it: `running` when the run goes on in the background. */
export type WaitedSync = SyncOutcome & { state?: 'complete' | 'running' }

/** What {@link keySetChanged} needs of the admin dependencies. */
export interface KeySetChangeDependencies {
  /** Runs one sync; `state: 'running'` when it had not finished when the wait for it ended. */
  sync: () => Promise<WaitedSync>
  /** The store this isolate's gateway serves from. Absent: only other isolates' refresh applies. */
  keySet?: ChangeableKeySet | undefined
  /** Milliseconds to wait for the sync before answering. Default {@link CHANGE_SYNC_WAIT_MS}. */
  changeSyncWaitMs?: number | undefined
}

/**
 * Call after every successful admin change (routes, API keys, legacy tokens,
 * consumers, credentials, OIDC issuers…), before answering. Runs a sync and waits
 * for it up to `changeSyncWaitMs`; once it has written, tells this isolate's store
 * (so its next request uses the new key set) and loads the key set into memory in
 * this request. A sync still running after the wait goes on in the background
 * (`waitUntil`) and tells the store when it ends. Sets {@link SYNC_HEADER} on the
 * response and returns the same state. Never throws: the change is saved whatever
 * its sync does.
 *
 * @example
 * ```ts
 * await registry.saveRoutes(routes)
 * audit(c, 'routes.replace', 'routes')
 * const sync = await keySetChanged(c, dependencies(c))
 * return c.json({ routes: routes.length, sync })
 * ```
 */
export async function keySetChanged(c: Context, dependencies: KeySetChangeDependencies): Promise<KeySetChangeState> {
  const context: StoreContext = { waitUntil: (promise) => c.executionCtx.waitUntil(promise) }
  const syncing = Promise.resolve()
    .then(() => dependencies.sync())
    .then((outcome) => {
      syncApplied(dependencies.keySet, outcome)
      return outcome
    })
    .catch(() => undefined)
  context.waitUntil(syncing)
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), dependencies.changeSyncWaitMs ?? CHANGE_SYNC_WAIT_MS)))
  const outcome = await Promise.race([syncing, waited])
  if (timer !== undefined) clearTimeout(timer)
  const state: KeySetChangeState = outcome === 'waited' || outcome?.state === 'running' ? 'pending' : outcome?.ok ? 'synced' : 'failed'
  // Read now, in this request, what the next one would otherwise read first.
  if (state === 'synced') await dependencies.keySet?.current(context).catch(() => undefined)
  c.header(SYNC_HEADER, state)
  return state
}

/**
 * Tells this isolate's store what a sync left in KV (a sync that failed before writing
 * left nothing new). `POST /sync` calls it; {@link keySetChanged} too.
 */
export function syncApplied(keySet: ChangeableKeySet | undefined, outcome: SyncOutcome): void {
  if (outcome.write) keySet?.invalidate(outcome.write.manifest)
}
