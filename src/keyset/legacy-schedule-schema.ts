/**
 * The migration schedule of legacy serverless tokens, as the key set carries it
 * (config part, `legacySchedule`), as the registry stores it and as the
 * `LEGACY_*` vars give it (the fallback). docs/migration.md, "The schedule".
 */
import * as v from 'valibot'

const Time = v.pipe(v.string(), v.isoTimestamp())

/** At most this many brownout windows: the schedule rides in the config part every isolate reads. */
export const MAX_BROWNOUTS = 100

/** One window in which legacy tokens are refused. */
export const BrownoutSchema = v.pipe(
  v.object({ start: Time, end: Time }),
  v.check((w) => Date.parse(w.start) < Date.parse(w.end), 'a brownout must end after it starts'),
)

/** The migration schedule of legacy serverless tokens. Every field is optional. */
export const LegacyScheduleSchema = v.pipe(
  v.object({
    /** When legacy tokens became deprecated: sent as `Deprecation` (RFC 9745). */
    deprecatedAt: v.optional(Time),
    /** After this instant legacy tokens are refused (`legacy_token_sunset`); before it, sent as `Sunset` (RFC 8594). */
    sunsetAt: v.optional(Time),
    /** The migration guide, sent as `Link: <…>; rel="deprecation"`. */
    migrationGuideUrl: v.optional(v.pipe(v.string(), v.url())),
    /** Windows in which legacy tokens are refused (`legacy_token_brownout`), to make late migrators notice. */
    brownouts: v.optional(v.pipe(v.array(BrownoutSchema), v.maxLength(MAX_BROWNOUTS, `at most ${MAX_BROWNOUTS} brownouts`)), []),
    /** From this instant on, the admin API mints no more legacy tokens (`legacy_creation_closed`). */
    creationCutoffAt: v.optional(Time),
  }),
  v.check((p) => !p.deprecatedAt || !p.sunsetAt || Date.parse(p.deprecatedAt) <= Date.parse(p.sunsetAt), 'sunsetAt must not come before deprecatedAt'),
  v.check((p) => !p.creationCutoffAt || !p.sunsetAt || Date.parse(p.creationCutoffAt) <= Date.parse(p.sunsetAt), 'creationCutoffAt must not come after sunsetAt'),
)

/** A checked schedule, `brownouts` defaulted to `[]`. */
export type LegacySchedule = v.InferOutput<typeof LegacyScheduleSchema>
