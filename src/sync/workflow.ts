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
import type { SyncEnv, SyncParams } from './sync-env.js'
import { syncRun, type StepRunner, type SyncOutcome } from './sync-run.js'

/** Every step: five retries, 2 s then doubling; ten minutes at most an attempt. */
export const SYNC_STEP_CONFIG: WorkflowStepConfig = { retries: { limit: 5, delay: '2 seconds', backoff: 'exponential' }, timeout: '10 minutes' }

/** The sync Workflow. Its output is the run's {@link SyncOutcome}. */
export class SyncWorkflow extends WorkflowEntrypoint<SyncEnv, SyncParams> {
  override async run(event: Readonly<WorkflowEvent<SyncParams>>, step: WorkflowStep): Promise<SyncOutcome> {
    const outcome = await syncRun(workflowRunner(step), event.instanceId, event.payload, syncOptionsFromEnv(this.env, readSettings(this.env)))
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
        error: outcome.status?.lastError?.message ?? null,
      }),
    )
    return outcome
  }
}

/** Steps as Workflow steps; a run that lost the writer lease stops at once (no retry can give it back). */
function workflowRunner(step: WorkflowStep): StepRunner {
  return {
    do: <T>(name: string, task: () => Promise<T>) =>
      step.do(name, SYNC_STEP_CONFIG, async () => {
        try {
          return (await task()) as never
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          if (message.includes('lease lost')) throw new NonRetryableError(message)
          throw error
        }
      }) as Promise<T>,
    sleep: (name, ms) => step.sleep(name, ms),
  }
}
