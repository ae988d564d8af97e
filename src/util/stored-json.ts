import * as v from 'valibot'

/**
 * A stored JSON value checked against its schema: `undefined` when absent, not
 * JSON, or not of the schema's shape. For values whose unreadability is handled by
 * the caller (keep the last good one, treat as missing).
 */
export function parseStored<S extends v.GenericSchema>(schema: S, text: string | null): v.InferOutput<S> | undefined {
  if (text === null) return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = v.safeParse(schema, json)
  return parsed.success ? parsed.output : undefined
}
