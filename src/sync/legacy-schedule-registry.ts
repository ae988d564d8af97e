/**
 * The legacy-token schedule in the gateway's registry: set through the admin API
 * (`PUT /legacy-schedule`), carried into the key set by the sync, where the
 * gateway reads it. docs/storage.md, `registry/v1/legacy-schedule`.
 */
import * as v from 'valibot'
import { LegacyScheduleSchema, type LegacySchedule } from '../keyset/legacy-schedule-schema.js'
import type { RegistryKv } from './registry.js'

/** The registry key of the schedule. */
export const LEGACY_SCHEDULE_KEY = 'registry/v1/legacy-schedule'

const StoredScheduleSchema = v.object({ schedule: LegacyScheduleSchema, updatedAt: v.pipe(v.string(), v.isoTimestamp()) })

/** The schedule as stored, with when it was set. */
export type StoredLegacySchedule = v.InferOutput<typeof StoredScheduleSchema>

/**
 * The schedule set through the admin API; `undefined` when none is set.
 * @throws {Error} when the stored value is unreadable: a schedule must never silently fall back to another.
 */
export async function readLegacySchedule(kv: Pick<RegistryKv, 'get'>): Promise<StoredLegacySchedule | undefined> {
  const text = await kv.get(LEGACY_SCHEDULE_KEY, { type: 'text' })
  if (text === null) return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const parsed = v.safeParse(StoredScheduleSchema, json)
  if (!parsed.success) throw new Error(`registry legacy schedule is unreadable: ${v.summarize(parsed.issues).slice(0, 200)}`)
  return parsed.output
}

/** Replaces the schedule. */
export async function saveLegacySchedule(kv: Pick<RegistryKv, 'put'>, schedule: LegacySchedule, updatedAt: string): Promise<StoredLegacySchedule> {
  const stored = v.parse(StoredScheduleSchema, { schedule, updatedAt })
  await kv.put(LEGACY_SCHEDULE_KEY, JSON.stringify(stored))
  return stored
}

/** Removes the schedule (the `LEGACY_*` vars apply again after the next sync). @returns whether there was one. */
export async function deleteLegacySchedule(kv: Pick<RegistryKv, 'get' | 'delete'>): Promise<boolean> {
  const existed = (await kv.get(LEGACY_SCHEDULE_KEY, { type: 'text' })) !== null
  if (existed) await kv.delete(LEGACY_SCHEDULE_KEY)
  return existed
}
