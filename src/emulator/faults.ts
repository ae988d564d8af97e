/**
 * The test-only fault switch: `POST /emulator/faults` with
 * `{"mode": "none"|"error500"|"garbage"|"hang", "paths": "iam"|"all"}` makes
 * the chosen API paths answer 500, answer 200 with a body that is not JSON, or
 * not answer (until the switch changes, or `EMULATOR_HANG_MAX_SECONDS`). With
 * `after: n` the next n affected requests are still served, and with `times: m`
 * only m requests get the fault, after which the switch is back to `none`: a
 * sync can be made to fail half-way. The setting persists in SQLite until set
 * back to `none`.
 */
import type { MiddlewareHandler } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from './context.js'
import { readSetting, writeSetting } from './db/schema.js'

/** The fault switch's body. */
export const FaultSettingsSchema = v.object({
  mode: v.picklist(['none', 'error500', 'garbage', 'hang']),
  paths: v.optional(v.picklist(['iam', 'all']), 'iam'),
  /** Affected requests still served normally before the fault starts. */
  after: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Affected requests that get the fault (`error500`, `garbage`); then the switch goes back to `none`. */
  times: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
})

/** What the switch is set to. */
export type FaultSettings = v.InferOutput<typeof FaultSettingsSchema>

const POLL_MS = 25

/** The switch, held in memory and mirrored in SQLite. */
export class FaultSwitch {
  private current: FaultSettings

  constructor(private readonly sql: SqlStorage) {
    const stored = readSetting(sql, 'faults')
    const parsed = stored ? v.safeParse(FaultSettingsSchema, JSON.parse(stored)) : undefined
    this.current = parsed?.success ? parsed.output : { mode: 'none', paths: 'iam' }
  }

  /** The current setting. */
  get settings(): FaultSettings {
    return this.current
  }

  /** Changes the setting (a hung request notices within a few milliseconds). */
  set(settings: FaultSettings): void {
    this.current = settings
    writeSetting(this.sql, 'faults', JSON.stringify(settings))
  }

  /** Is this path subject to the switch? The switch itself and the info route never are. */
  applies(path: string): boolean {
    if (this.current.mode === 'none' || path.startsWith('/emulator/')) return false
    return this.current.paths === 'all' || path.startsWith('/iam/')
  }

  /** Counts one affected request against `after` and `times`; `false` when it is to be served normally. */
  #count(): boolean {
    const { after, times } = this.current
    if (after !== undefined) {
      const { after: _done, ...rest } = this.current
      this.set(after > 1 ? { ...this.current, after: after - 1 } : rest)
      return false
    }
    if (times !== undefined) this.set(times > 1 ? { ...this.current, times: times - 1 } : { mode: 'none', paths: this.current.paths })
    return true
  }

  /** Middleware applying the switch before authentication, as an outage would. */
  middleware(hangMaxMs: number): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const path = new URL(c.req.url).pathname
      if (!this.applies(path)) return next()
      const mode = this.current.mode
      if (!this.#count()) return next()
      if (mode === 'error500') return c.json({ message: 'internal error', type: 'internal_error' }, 500)
      if (mode === 'garbage') return c.body('{"api_keys":[{"access_key":"SCW<<not json', 200, { 'content-type': 'application/json' })
      const deadline = Date.now() + hangMaxMs
      while (this.current.mode === 'hang' && this.applies(path) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
      return next()
    }
  }
}
