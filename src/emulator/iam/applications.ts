/** `/iam/v1alpha1/applications`: non-human principals that bear API keys. */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { ApplicationDoc } from '../db/docs.js'
import { type Condition, contains, eq, oneOf, raw } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { notFound } from '../http/errors.js'
import { newId, timestamp } from '../http/ids.js'
import { booleanParam, orderBy, orderOf, pageRequest, stringParam, uuidListParam, uuidParam } from '../http/query.js'
import { description, iamName, parseBody, tags, uuid } from '../http/validate.js'
import { removePrincipal } from './cascade.js'
import { organizationOf, requireIam } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'updated_at_asc', 'updated_at_desc', 'name_asc', 'name_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', updated_at: 'updated_at', name: 'name' }

const CreateApplication = v.object({
  name: iamName,
  organization_id: v.optional(uuid),
  description: v.optional(description, ''),
  tags: v.optional(v.nullable(tags)),
})

const UpdateApplication = v.object({
  name: v.optional(iamName),
  description: v.optional(description),
  tags: v.optional(tags),
})

/** The application with its live API-key count. */
function render(tables: Tables, doc: ApplicationDoc): ApplicationDoc {
  return { ...doc, nb_api_keys: tables.apiKeys.count([eq('bearer_type', 'application'), eq('bearer_id', doc.id)]) }
}

/** Registers the application routes on the IAM router. */
export function applicationRoutes(iam: Hono<AppEnv>): void {
  iam.post('/applications', async (c) => {
    requireIam(c, 'application')
    const { tables, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreateApplication)
    const at = timestamp(now())
    const doc: ApplicationDoc = {
      id: newId(),
      name: body.name,
      description: body.description,
      created_at: at,
      updated_at: at,
      organization_id: organizationOf(c, body.organization_id, 'application'),
      editable: true,
      deletable: true,
      managed: false,
      nb_api_keys: 0,
      tags: body.tags ?? [],
    }
    tables.applications.insert(doc)
    return c.json(doc)
  })

  iam.get('/applications', (c) => {
    requireIam(c, 'application')
    const { tables } = c.var.emulator
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = []
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const name = stringParam(query, 'name')
    if (name !== undefined) where.push(contains('name', name))
    const editable = booleanParam(query, 'editable')
    if (editable !== undefined) where.push(eq('editable', editable ? 1 : 0))
    const ids = uuidListParam(query, 'application_ids')
    if (ids) where.push(oneOf('id', ids))
    const tag = stringParam(query, 'tag')
    if (tag !== undefined) where.push(raw(`EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE instr(value, ?) > 0)`, tag))
    const result = tables.applications.list(where, order, page)
    return c.json(listBody('applications', { items: result.items.map((doc) => render(tables, doc)), total: result.total }))
  })

  iam.get('/applications/:id', (c) => {
    requireIam(c, 'application')
    const { tables } = c.var.emulator
    const doc = tables.applications.get(c.req.param('id'))
    if (!doc) throw notFound('application', c.req.param('id'))
    return c.json(render(tables, doc))
  })

  iam.patch('/applications/:id', async (c) => {
    requireIam(c, 'application')
    const { tables, now } = c.var.emulator
    const doc = tables.applications.get(c.req.param('id'))
    if (!doc) throw notFound('application', c.req.param('id'))
    const body = await parseBody(c.req.raw, UpdateApplication)
    const updated: ApplicationDoc = {
      ...doc,
      name: body.name ?? doc.name,
      description: body.description ?? doc.description,
      tags: body.tags ?? doc.tags,
      updated_at: timestamp(now()),
    }
    tables.applications.update(updated)
    return c.json(render(tables, updated))
  })

  iam.delete('/applications/:id', (c) => {
    requireIam(c, 'application')
    const { tables, now } = c.var.emulator
    const id = c.req.param('id')
    if (!tables.applications.get(id)) throw notFound('application', id)
    removePrincipal(tables, 'application', id, now())
    tables.applications.delete(id)
    return c.body(null, 204)
  })
}
