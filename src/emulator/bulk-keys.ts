/**
 * The API keys `POST /emulator/bulk/api-keys` makes: access key and secret are a
 * function of the key's index, so a test or a benchmark seeding 100,000 keys can
 * capture their digests and present their secrets without receiving any of them.
 * Test data only: anyone who knows the index knows the secret.
 */

/** Most keys one bulk call makes. */
export const BULK_MAX_KEYS = 100_000

/** The access key of bulk key `index`: `SCWB` and the index in 16 decimal digits. */
export function bulkAccessKey(index: number): string {
  return `SCWB${String(index).padStart(16, '0')}`
}

/** The secret of bulk key `index`: a version-4-shaped UUID holding the index in hex. */
export function bulkSecret(index: number): string {
  const hex = index.toString(16)
  return `b${hex.padStart(7, '0').slice(-7)}-0000-4000-8000-${hex.padStart(12, '0')}`
}
