/**
 * The sync as a Cloudflare Workflow (binding `SYNC_WORKFLOW`): each step of
 * {@link syncRun} a durable step, retried with backoff, never redone once it
 * finished, so a run resumes where it failed. Started by the Cron Trigger, by admin
 * changes and by `edgegw sync` ({@link startSync}).
 */
import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from 'cloudflare:workers'
import { NonRetryableError } from 'cloudflare:workflows'
import { readSettings } from '../settings.js'
import { syncOptionsFromEnv } from './from-env.js'
import { readSyncSettings, type SyncEnv, type SyncParams, type SyncSettings } from './sync-env.js'
import { syncRun, type StepRunner, type SyncOutcome } from './sync-run.js'

/** Every step: `SYNC_STEP_RETRIES` retries (default 5), `SYNC_STEP_RETRY_DELAY_SECONDS` (default 2) then doubling; ten minutes at most an attempt. */
export function syncStepConfig(settings: Pick<SyncSettings, 'stepRetries' | 'stepRetryDelaySeconds'>): WorkflowStepConfig {
  return { retries: { limit: settings.stepRetries, delay: `${settings.stepRetryDelaySeconds} seconds`, backoff: 'exponential' }, timeout: '10 minutes' }
}

/** The sync Workflow. Its output is the run's {@link SyncOutcome}. */
export class SyncWorkflow extends WorkflowEntrypoint<SyncEnv, SyncParams> {
  override async run(event: Readonly<WorkflowEvent<SyncParams>>, step: WorkflowStep): Promise<SyncOutcome> {
    const outcome = await syncRun(workflowRunner(step, syncStepConfig(readSyncSettings(this.env))), event.instanceId, event.payload, syncOptionsFromEnv(this.env, readSettings(this.env)))
    const busiest = outcome.steps.reduce((max, s) => Math.max(max, s.subrequests), 0)
    console.log(
      JSON.stringify({
        event: 'sync',
        run: event.instanceId,
        reason: event.payload.reason,
        ok: outcome.ok,
        changed: outcome.write?.changed ?? false,
        covered_by: outcome.coveredBy ?? null,
        steps: outcome.steps.length,
        max_step_subrequests: busiest,
        counts: outcome.status?.counts ?? {},
        error: outcome.status?.lastError?.message ?? null,
        duration_ms: outcome.status?.durationMs ?? null,
      }),
    )
    return outcome
  }
}

/** Steps as Workflow steps; a run that lost the writer lease stops at once (no retry can give it back). */
function workflowRunner(step: WorkflowStep, config: WorkflowStepConfig): StepRunner {
  return {
    do: <T>(name: string, task: () => Promise<T>) =>
      step.do(name, config, async () => {
        try {
          return (await task()) as never
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          if (message.includes('lease lost')) throw new NonRetryableError(message)
          throw error
        }
      }).catch((error: unknown) => {
        throw withoutClassName(error)
      }) as Promise<T>,
    sleep: (name, ms) => step.sleep(name, ms),
  }
}

/**
 * A step's error as the Workflow hands it back after its last retry carries the class
 * name in its message (`ApiCallError: GET …`): the status names the failing call alone.
 */
function withoutClassName(error: unknown): unknown {
  if (!(error instanceof Error)) return error
  const message = error.message.replace(/^[A-Z][A-Za-z]*Error: /, '')
  return message === error.message ? error : new Error(message, { cause: error })
}
