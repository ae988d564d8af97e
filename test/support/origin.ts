import { env } from 'cloudflare:workers'

/** What the demo origins echo back. */
export interface OriginEcho {
  resource: { kind: string; name: string }
  method: string
  path: string
  query: Record<string, string>
  /** The raw query string, as the origin received it. */
  search: string
  headers: Record<string, string>
  body: string | null
}

/** A marker unique to one request, sent as `x-test-marker`, that the test origins record. */
export const newMarker = (): string => `m-${crypto.randomUUID()}`

/** Did the test origins receive the request carrying this marker? */
export async function originSaw(marker: string): Promise<boolean> {
  const res = await fetch(`${env.ORIGINS_URL}/__requests`)
  const { seen } = (await res.json()) as { seen: string[] }
  return seen.includes(marker)
}
