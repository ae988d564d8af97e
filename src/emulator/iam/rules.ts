/**
 * Policy rules: validation of `RuleSpecs`, `PUT /rules` (replace a policy's
 * rules) and `GET /rules?policy_id=` (list them).
 */
import type { Hono } from 'hono'
import * as v from 'valibot'
import { permissionSetNamed } from '../auth/permission-sets.js'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { PolicyDoc, RuleDoc } from '../db/docs.js'
import { eq } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { type InvalidArgumentDetail, invalidArgument, invalidArguments, notFound } from '../http/errors.js'
import { newId, timestamp } from '../http/ids.js'
import { pageRequest, uuidParam } from '../http/query.js'
import { parseBody, uuid } from '../http/validate.js'
import { requireIam } from './common.js'
import { conditionProblem } from './conditions.js'

/** One `RuleSpecs` as a body carries it. */
export const RuleSpecs = v.object({
  permission_set_names: v.pipe(v.array(v.string()), v.minLength(1, 'at least one permission set')),
  /** Kept exactly as sent; checked by {@link compileRules}. `null` and absent are no condition. */
  condition: v.optional(v.nullable(v.string(), ''), ''),
  project_ids: v.optional(v.nullable(v.array(uuid))),
  organization_id: v.optional(v.nullable(uuid)),
})

/**
 * Turns specs into rules, checking what the platform checks: known permission
 * sets, one scope type per rule, precisely one of `project_ids` and
 * `organization_id`, Organization-level sets only on the Organization, and a
 * condition of at most 2048 characters that parses as CEL.
 * @throws {ScalewayError} 400 `invalid_arguments` naming `rules.N.<field>`.
 */
export function compileRules(specs: readonly v.InferOutput<typeof RuleSpecs>[], organizationId: string): RuleDoc[] {
  const details: InvalidArgumentDetail[] = []
  const rules = specs.map((spec, index): RuleDoc => {
    const at = `rules.${index}`
    const sets = spec.permission_set_names.map((name) => permissionSetNamed(name))
    spec.permission_set_names.forEach((name, i) => {
      if (!sets[i]) details.push({ argument_name: `${at}.permission_set_names`, reason: 'constraint', help_message: `unknown permission set ${name}` })
    })
    const scopeTypes = new Set(sets.map((set) => set?.scope_type).filter((type) => type !== undefined))
    if (scopeTypes.size > 1) details.push({ argument_name: `${at}.permission_set_names`, reason: 'constraint', help_message: 'permission sets of one rule must share a scope type' })
    const projectIds = spec.project_ids?.map((id) => id.toLowerCase())
    const hasProjects = projectIds !== undefined && projectIds.length > 0
    const hasOrganization = spec.organization_id !== undefined && spec.organization_id !== null
    if (hasProjects === hasOrganization) details.push({ argument_name: `${at}.project_ids`, reason: 'required', help_message: 'precisely one of project_ids, organization_id must be set' })
    if (hasOrganization && spec.organization_id!.toLowerCase() !== organizationId) {
      details.push({ argument_name: `${at}.organization_id`, reason: 'constraint', help_message: "must be the policy's Organization" })
    }
    const scopeType = scopeTypes.has('organization') ? 'organization' : 'projects'
    if (scopeType === 'organization' && hasProjects) details.push({ argument_name: `${at}.project_ids`, reason: 'constraint', help_message: 'Organization-level permission sets need organization_id' })
    const conditionDetail = conditionProblem(spec.condition, `${at}.condition`)
    if (conditionDetail) details.push(conditionDetail)
    return {
      id: newId(),
      permission_set_names: spec.permission_set_names,
      permission_sets_scope_type: scopeType,
      condition: spec.condition,
      ...(hasProjects ? { project_ids: projectIds } : { organization_id: organizationId }),
    }
  })
  if (details.length) throw invalidArguments(details)
  return rules
}

/** Replaces the rules of a policy. */
export function replaceRules(tables: Tables, policyId: string, rules: readonly RuleDoc[]): void {
  tables.rules.deleteWhere([eq('policy_id', policyId)])
  rules.forEach((rule, position) => tables.rules.insert(rule, { policy_id: policyId, position }))
}

/** The rules of a policy, in order. */
export function rulesOfPolicy(tables: Tables, policyId: string): RuleDoc[] {
  return tables.rules.all([eq('policy_id', policyId)], { column: 'position', direction: 'ASC' })
}

/** A policy with its counters computed from its rules. */
export function renderPolicy(tables: Tables, doc: PolicyDoc): PolicyDoc {
  const rules = rulesOfPolicy(tables, doc.id)
  const scopes = new Set(rules.flatMap((rule) => rule.project_ids ?? [rule.organization_id ?? '']))
  const sets = new Set(rules.flatMap((rule) => rule.permission_set_names))
  const { user_id, group_id, application_id, no_principal, ...rest } = doc
  return {
    ...rest,
    nb_rules: rules.length,
    nb_scopes: scopes.size,
    nb_permission_sets: sets.size,
    ...(user_id !== undefined ? { user_id } : {}),
    ...(group_id !== undefined ? { group_id } : {}),
    ...(application_id !== undefined ? { application_id } : {}),
    ...(no_principal !== undefined ? { no_principal } : {}),
  }
}

const SetRules = v.object({ policy_id: uuid, rules: v.optional(v.nullable(v.array(RuleSpecs))) })

/** Registers `/rules` on the IAM router. */
export function ruleRoutes(iam: Hono<AppEnv>): void {
  iam.put('/rules', async (c) => {
    requireIam(c, 'rule')
    const { tables, now } = c.var.emulator
    const body = await parseBody(c.req.raw, SetRules)
    const policy = tables.policies.get(body.policy_id.toLowerCase())
    if (!policy) throw notFound('policy', body.policy_id)
    const rules = compileRules(body.rules ?? [], policy.organization_id)
    replaceRules(tables, policy.id, rules)
    tables.policies.update({ ...policy, updated_at: timestamp(now()) })
    return c.json({ rules })
  })

  iam.get('/rules', (c) => {
    requireIam(c, 'rule')
    const { tables } = c.var.emulator
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const policyId = uuidParam(query, 'policy_id')
    if (policyId === undefined) throw invalidArgument('policy_id', 'required', 'policy_id is required')
    if (!tables.policies.get(policyId)) throw notFound('policy', policyId)
    return c.json(listBody('rules', tables.rules.list([eq('policy_id', policyId)], { column: 'position', direction: 'ASC' }, page)))
  })
}
