/** `/iam/v1alpha1/policies`: a principal plus rules. */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { PolicyDoc } from '../db/docs.js'
import { type Condition, eq, oneOf, raw } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { invalidArgument, notFound } from '../http/errors.js'
import { newId, timestamp } from '../http/ids.js'
import { booleanParam, orderBy, orderOf, pageRequest, stringParam, uuidListParam, uuidParam } from '../http/query.js'
import { description, iamName, parseBody, tags, uuid } from '../http/validate.js'
import { organizationOf, requireIam } from './common.js'
import { compileRules, renderPolicy, replaceRules, RuleSpecs, rulesOfPolicy } from './rules.js'

const ORDERS = ['policy_name_asc', 'policy_name_desc', 'created_at_asc', 'created_at_desc'] as const
const ORDER_COLUMNS = { policy_name: 'name', created_at: 'created_at' }

const Principal = {
  user_id: v.optional(uuid),
  group_id: v.optional(uuid),
  application_id: v.optional(uuid),
  no_principal: v.optional(v.boolean()),
}
const CreatePolicy = v.object({
  name: iamName,
  description: v.optional(description, ''),
  organization_id: v.optional(uuid),
  rules: v.optional(v.nullable(v.array(RuleSpecs))),
  tags: v.optional(v.nullable(tags)),
  ...Principal,
})
const UpdatePolicy = v.object({ name: v.optional(iamName), description: v.optional(description), tags: v.optional(tags), ...Principal })

type PrincipalFields = Pick<PolicyDoc, 'user_id' | 'group_id' | 'application_id' | 'no_principal'>

/**
 * The one principal a body names, checked to exist.
 * @throws {ScalewayError} 400 unless precisely one is set; 404 for an unknown one.
 */
function principalOf(tables: Tables, body: { user_id?: string; group_id?: string; application_id?: string; no_principal?: boolean }): PrincipalFields | undefined {
  const given = [body.user_id, body.group_id, body.application_id, body.no_principal ? true : undefined].filter((value) => value !== undefined)
  if (given.length === 0) return undefined
  if (given.length > 1) throw invalidArgument('user_id', 'constraint', 'precisely one of user_id, group_id, application_id, no_principal must be set')
  if (body.user_id) {
    if (!tables.users.get(body.user_id.toLowerCase())) throw notFound('user', body.user_id)
    return { user_id: body.user_id.toLowerCase() }
  }
  if (body.group_id) {
    if (!tables.groups.get(body.group_id.toLowerCase())) throw notFound('group', body.group_id)
    return { group_id: body.group_id.toLowerCase() }
  }
  if (body.application_id) {
    if (!tables.applications.get(body.application_id.toLowerCase())) throw notFound('application', body.application_id)
    return { application_id: body.application_id.toLowerCase() }
  }
  return { no_principal: true }
}

function loadPolicy(c: Context<AppEnv>): PolicyDoc {
  const doc = c.var.emulator.tables.policies.get(c.req.param('id') ?? '')
  if (!doc) throw notFound('policy', c.req.param('id') ?? '')
  return doc
}

function withoutPrincipal(doc: PolicyDoc): PolicyDoc {
  const { user_id: _u, group_id: _g, application_id: _a, no_principal: _n, ...rest } = doc
  return rest
}

/** Registers the policy routes on the IAM router. */
export function policyRoutes(iam: Hono<AppEnv>): void {
  iam.post('/policies', async (c) => {
    requireIam(c, 'policy')
    const { tables, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreatePolicy)
    const organizationId = organizationOf(c, body.organization_id, 'policy')
    const principal = principalOf(tables, body)
    if (!principal) throw invalidArgument('user_id', 'required', 'precisely one of user_id, group_id, application_id, no_principal must be set')
    const rules = compileRules(body.rules ?? [], organizationId)
    const at = timestamp(now())
    const doc: PolicyDoc = {
      id: newId(),
      name: body.name,
      description: body.description,
      organization_id: organizationId,
      created_at: at,
      updated_at: at,
      editable: true,
      deletable: true,
      managed: false,
      nb_rules: 0,
      nb_scopes: 0,
      nb_permission_sets: 0,
      tags: body.tags ?? [],
      ...principal,
    }
    tables.policies.insert(doc)
    replaceRules(tables, doc.id, rules)
    return c.json(renderPolicy(tables, doc))
  })

  iam.get('/policies', (c) => {
    requireIam(c, 'policy')
    const { tables } = c.var.emulator
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'policy_name_asc'), ORDER_COLUMNS)
    const where: Condition[] = []
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const editable = booleanParam(query, 'editable')
    if (editable !== undefined) where.push(eq('editable', editable ? 1 : 0))
    const principals: Condition[] = []
    for (const [param, kind] of [['user_ids', 'user'], ['group_ids', 'group'], ['application_ids', 'application']] as const) {
      const ids = uuidListParam(query, param)
      if (ids) principals.push({ sql: `principal_type = '${kind}' AND ${oneOf('principal_id', ids).sql}`, params: ids })
    }
    const noPrincipal = booleanParam(query, 'no_principal')
    if (noPrincipal === true) principals.push(raw(`principal_type = 'none'`))
    if (principals.length) where.push({ sql: principals.map((p) => `(${p.sql})`).join(' OR '), params: principals.flatMap((p) => p.params) })
    if (noPrincipal === false) where.push(raw(`principal_type != 'none'`))
    const name = stringParam(query, 'policy_name')
    if (name !== undefined) where.push(raw('instr(lower(name), lower(?)) > 0', name))
    const ids = uuidListParam(query, 'policy_ids')
    if (ids) where.push(oneOf('id', ids))
    const tag = stringParam(query, 'tag')
    if (tag !== undefined) where.push(raw(`EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE instr(value, ?) > 0)`, tag))
    const result = tables.policies.list(where, order, page)
    return c.json(listBody('policies', { items: result.items.map((doc) => renderPolicy(tables, doc)), total: result.total }))
  })

  iam.get('/policies/:id', (c) => {
    requireIam(c, 'policy')
    return c.json(renderPolicy(c.var.emulator.tables, loadPolicy(c)))
  })

  iam.patch('/policies/:id', async (c) => {
    requireIam(c, 'policy')
    const { tables, now } = c.var.emulator
    const doc = loadPolicy(c)
    const body = await parseBody(c.req.raw, UpdatePolicy)
    const principal = principalOf(tables, body)
    const base = principal ? { ...withoutPrincipal(doc), ...principal } : doc
    const updated: PolicyDoc = { ...base, name: body.name ?? doc.name, description: body.description ?? doc.description, tags: body.tags ?? doc.tags, updated_at: timestamp(now()) }
    tables.policies.update(updated)
    return c.json(renderPolicy(tables, updated))
  })

  iam.delete('/policies/:id', (c) => {
    requireIam(c, 'policy')
    const { tables } = c.var.emulator
    const doc = loadPolicy(c)
    replaceRules(tables, doc.id, [])
    tables.policies.delete(doc.id)
    return c.body(null, 204)
  })

  iam.post('/policies/:id/clone', (c) => {
    requireIam(c, 'policy')
    const { tables, now } = c.var.emulator
    const doc = loadPolicy(c)
    const at = timestamp(now())
    const clone: PolicyDoc = { ...withoutPrincipal(doc), id: newId(), name: `${doc.name}-copy`.slice(0, 64), created_at: at, updated_at: at, no_principal: true }
    tables.policies.insert(clone)
    replaceRules(tables, clone.id, rulesOfPolicy(tables, doc.id).map((rule) => ({ ...rule, id: newId() })))
    return c.json(renderPolicy(tables, clone))
  })
}
