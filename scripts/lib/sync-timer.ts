/**
 * Runs the gateway's Cron Trigger path (`scheduled`) on a timer, as Cloudflare's
 * scheduler would, one run at a time: a run that outlasts the interval delays
 * the next one instead of overlapping it.
 */

/** One run of the timer. */
export interface ScheduledRun {
  /** `ok`, or workerd's outcome when the handler threw (`exception`…). */
  outcome: string
  durationMs: number
  /** Set when the run could not be triggered at all. */
  error?: string
}

/** A running timer. */
export interface SyncTimer {
  /** Stops the timer and waits for a run in flight. */
  stop(): Promise<void>
}

/**
 * Starts the timer; the first run comes one interval after the start.
 *
 * @param intervalSeconds Seconds between the starts of two runs; must be positive.
 * @throws {TypeError} for an interval that is not a positive number.
 * @example
 * ```ts
 * const timer = startSyncTimer(60, () => gateway.triggerScheduled(), (run) => console.log(run.outcome))
 * await timer.stop()
 * ```
 */
export function startSyncTimer(intervalSeconds: number, trigger: () => Promise<{ outcome: string }>, onRun: (run: ScheduledRun) => void = () => {}): SyncTimer {
  if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) throw new TypeError(`startSyncTimer: intervalSeconds must be a positive number, got ${intervalSeconds}`)
  const intervalMs = intervalSeconds * 1000
  let stopped = false
  let inFlight: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined

  const schedule = (delayMs: number): void => {
    if (stopped) return
    timer = setTimeout(run, Math.max(0, delayMs))
    // The stack's workerd processes keep `npm start` alive; the timer alone never should.
    timer.unref()
  }
  const run = (): void => {
    const started = Date.now()
    inFlight = trigger().then(
      (result) => onRun({ outcome: result.outcome, durationMs: Date.now() - started }),
      (error: unknown) => onRun({ outcome: 'error', durationMs: Date.now() - started, error: error instanceof Error ? error.message : String(error) }),
    )
    void inFlight.then(() => schedule(started + intervalMs - Date.now()))
  }
  schedule(intervalMs)
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await inFlight
    },
  }
}
