/**
 * Changes reach the edge with a sync. Every command that changes something runs
 * one (`POST /sync`) before it returns, unless `--no-sync`, so what it printed
 * is what the gateway serves once each isolate's memory has refreshed
 * (`KEYSET_MEMORY_TTL_SECONDS`).
 */
import type { CommandContext } from './context.js'
import { GatewayError } from './errors.js'
import type { SyncOutcomeJson } from './wire.js'

/**
 * Runs a sync and waits for it; progress on stderr when it is a terminal.
 * @throws {GatewayError} `sync_failed` with the sync's last error when it failed.
 */
export async function syncNow(ctx: CommandContext): Promise<SyncOutcomeJson> {
  const progress = ctx.out.progress('syncing the key set')
  progress.update()
  try {
    const { body } = await ctx.client.call<SyncOutcomeJson>('POST', '/sync', { body: {} })
    return body
  } catch (error) {
    // A failed sync answers 502 with the outcome: show its error, not the bare status.
    if (error instanceof GatewayError && error.status === 502) {
      const outcome = error.body as Partial<SyncOutcomeJson> | undefined
      const why = outcome?.status?.lastError?.message ?? error.detail
      throw new GatewayError(502, 'sync_failed', `the sync failed: ${why}; the Cron retries it (\`edgegw status\`)`, error.body)
    }
    throw error
  } finally {
    progress.end()
  }
}

/** Syncs unless the command was given `--no-sync`. */
export async function syncUnlessSkipped(ctx: CommandContext, options: { sync?: boolean }): Promise<void> {
  if (options.sync === false) {
    if (!ctx.out.json) ctx.out.note('Not synced (--no-sync): the change reaches the edge with the next sync.')
    return
  }
  await syncNow(ctx)
}
