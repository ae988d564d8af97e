/**
 * The migration plan file of `edgegw migrate plan|apply|verify|finish`: versioned
 * JSON, checked with valibot whenever it is read (a hand-edited plan that does not
 * fit is refused, naming the field, before anything is touched), and written
 * whole (a temporary file renamed over it), so no reader ever sees half a plan.
 * docs/migration.md, "The plan file".
 */
import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import * as v from 'valibot'
import { UsageError } from './errors.js'

/** The plan format's version; a plan of another version is refused. */
export const PLAN_VERSION = 1

const Uuid = v.pipe(v.string('expected a UUID'), v.uuid('expected a UUID'))
const Time = v.pipe(v.string('expected an RFC 3339 time'), v.isoTimestamp('expected an RFC 3339 time'))
const AccessKey = v.pipe(v.string('expected an access key'), v.regex(/^SCW[0-9A-Z]{17}$/, 'expected SCW followed by 17 letters or digits'))
const Name = v.pipe(v.string('expected a name'), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1 to 64 letters, digits, dots, dashes or underscores'))
const Path = v.pipe(v.string('expected a route path'), v.regex(/^\/[^\s?#]*$/, 'expected a path starting with /'))

/** The key kinds the gateway knows (routes may accept only some). */
export const KEY_KINDS = ['personal', 'ci', 'service'] as const

/** What a token could reach, and so what its replacement may reach. */
export const ScopeSchema = v.strictObject({
  /** `namespace`: every function (container) of a namespace; `function` / `container`: that one. */
  kind: v.picklist(['namespace', 'function', 'container'], 'expected namespace, function or container'),
  product: v.picklist(['functions', 'containers'], 'expected functions or containers'),
  project_id: Uuid,
  namespace_id: Uuid,
  /** The function's or container's id; null for a namespace. */
  resource_id: v.nullable(Uuid),
  /** For people: `namespace edgegw-demo-functions`, `function hello`. */
  label: v.string(),
})

/** One route call of `migrate verify`. */
export const ProbeSchema = v.strictObject({ route: v.string(), method: v.string(), path: Path })

/** A legacy token the plan replaces with an IAM API key. */
export const PlannedTokenSchema = v.strictObject({
  token_id: Uuid,
  description: v.string(),
  calls: v.pipe(v.number(), v.integer(), v.minValue(0)),
  last_seen: v.nullable(Time),
  /** Who holds it, from usage: the user agents and routes it was seen with. */
  owner: v.strictObject({ user_agents: v.array(v.string()), routes: v.array(v.string()) }),
  key_kind: v.picklist(KEY_KINDS, `expected one of ${KEY_KINDS.join(', ')}`),
  /** Filled by `apply`: the new key, and the 0600 file its secret was written to. */
  key: v.nullable(v.strictObject({ access_key: AccessKey, secret_file: v.string() })),
})

/** Tokens sharing a scope: one application and one policy, one key per token. */
export const GroupSchema = v.strictObject({
  scope: ScopeSchema,
  application: v.strictObject({ name: Name, id: v.nullable(Uuid) }),
  policy: v.strictObject({
    name: Name,
    id: v.nullable(Uuid),
    rule: v.strictObject({
      permission_set_names: v.pipe(v.array(v.picklist(['FunctionsPrivateAccess', 'ContainersPrivateAccess'])), v.length(1, 'expected one permission set')),
      project_ids: v.pipe(v.array(Uuid), v.length(1, 'expected one project')),
      condition: v.pipe(v.string(), v.minLength(1, 'a condition is required: without it the key reaches the whole project')),
    }),
  }),
  tokens: v.pipe(v.array(PlannedTokenSchema), v.minLength(1, 'a group holds at least one token')),
  /** Routes the new keys must reach, and neighbours they must not (`migrate verify`). */
  verify: v.strictObject({ allowed: v.array(ProbeSchema), refused: v.array(ProbeSchema) }),
})

/** A token with no use since the plan's `idle_since`: deleted by `migrate finish`, not migrated. */
export const IdleTokenSchema = v.strictObject({
  token_id: Uuid,
  product: v.picklist(['functions', 'containers']),
  description: v.string(),
  scope_label: v.string(),
  last_seen: v.nullable(Time),
  reason: v.picklist(['idle', 'expired']),
})

/** The whole plan file. */
export const PlanSchema = v.strictObject({
  version: v.literal(PLAN_VERSION, `expected ${PLAN_VERSION}: this edgegw reads plans of version ${PLAN_VERSION}`),
  generated_at: Time,
  organization_id: Uuid,
  region: v.string(),
  idle_since: Time,
  groups: v.array(GroupSchema),
  idle: v.array(IdleTokenSchema),
})

export type Plan = v.InferOutput<typeof PlanSchema>
export type PlanGroup = v.InferOutput<typeof GroupSchema>
export type PlannedToken = v.InferOutput<typeof PlannedTokenSchema>
export type Scope = v.InferOutput<typeof ScopeSchema>
export type Probe = v.InferOutput<typeof ProbeSchema>
export type IdleToken = v.InferOutput<typeof IdleTokenSchema>

/**
 * Checks a parsed plan.
 * @throws {UsageError} naming the first bad field (`groups.2.policy.rule.condition: …`) and the file.
 */
export function checkPlan(value: unknown, file: string): Plan {
  const parsed = v.safeParse(PlanSchema, value)
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  const path = v.getDotPath(issue) ?? '(the plan)'
  throw new UsageError(`${file}: ${path}: ${issue.message}; nothing was changed (fix the field, or make a new plan with edgegw migrate plan)`)
}

/**
 * Reads and checks a plan file.
 * @throws {UsageError} when it cannot be read, is not JSON or does not fit {@link PlanSchema}.
 */
export async function readPlan(file: string): Promise<Plan> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(`${file}: cannot read the plan (${(error as { code?: string }).code ?? 'error'})`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError(`${file}: not JSON; nothing was changed`)
  }
  return checkPlan(value, file)
}

/**
 * Writes the plan whole: a temporary file beside it, then a rename over it
 * (atomic on one file system), so a crash leaves the old plan or the new one.
 */
export async function writePlan(file: string, plan: Plan): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temporary, `${JSON.stringify(plan, null, 2)}\n`, { encoding: 'utf8', mode: 0o644 })
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
