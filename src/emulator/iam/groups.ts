/**
 * `/iam/v1alpha1/groups` and their members. Membership is explicit only: the
 * emulator has no implicit "all users" or "all applications" group, so a
 * principal gets a group's rules only while the group lists it.
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { GroupDoc } from '../db/docs.js'
import { type Condition, docArrayHasAny, eq, oneOf, raw } from '../db/table.js'
import type { Tables } from '../db/tables.js'
import { alreadyExists, invalidArgument, notFound } from '../http/errors.js'
import { newId, timestamp } from '../http/ids.js'
import { orderBy, orderOf, pageRequest, stringParam, uuidListParam, uuidParam } from '../http/query.js'
import { description, iamName, parseBody, tags, uuid } from '../http/validate.js'
import { orphanPolicies } from './cascade.js'
import { organizationOf, requireIam } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'updated_at_asc', 'updated_at_desc', 'name_asc', 'name_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', updated_at: 'updated_at', name: 'name' }

const CreateGroup = v.object({
  organization_id: v.optional(uuid),
  name: iamName,
  description: v.optional(description, ''),
  tags: v.optional(v.nullable(tags)),
})
const UpdateGroup = v.object({ name: v.optional(iamName), description: v.optional(description), tags: v.optional(tags) })
const OneMember = v.object({ user_id: v.optional(uuid), application_id: v.optional(uuid) })
const Members = v.object({ user_ids: v.optional(v.nullable(v.array(uuid))), application_ids: v.optional(v.nullable(v.array(uuid))) })

function uniqueName(tables: Tables, organizationId: string, name: string, except?: string): void {
  const clash = tables.groups.find([eq('organization_id', organizationId), eq('name', name)])
  if (clash && clash.id !== except) throw alreadyExists('group', clash.id, 'group name must be unique in the Organization')
}

/** Checks every member exists; returns them lower-cased and de-duplicated. */
function checkMembers(tables: Tables, userIds: readonly string[], applicationIds: readonly string[]): { users: string[]; applications: string[] } {
  const users = [...new Set(userIds.map((id) => id.toLowerCase()))]
  const applications = [...new Set(applicationIds.map((id) => id.toLowerCase()))]
  for (const id of users) if (!tables.users.get(id)) throw notFound('user', id)
  for (const id of applications) if (!tables.applications.get(id)) throw notFound('application', id)
  return { users, applications }
}

function loadGroup(c: Context<AppEnv>): GroupDoc {
  const doc = c.var.emulator.tables.groups.get(c.req.param('id') ?? '')
  if (!doc) throw notFound('group', c.req.param('id') ?? '')
  return doc
}

function save(c: Context<AppEnv>, doc: GroupDoc): Response {
  const updated = { ...doc, updated_at: timestamp(c.var.emulator.now()) }
  c.var.emulator.tables.groups.update(updated)
  return c.json(updated)
}

function oneMember(body: v.InferOutput<typeof OneMember>): { user_id?: string; application_id?: string } {
  if ((body.user_id === undefined) === (body.application_id === undefined)) {
    throw invalidArgument('user_id', 'required', 'precisely one of user_id, application_id must be set')
  }
  return body
}

/** Registers the group routes on the IAM router. */
export function groupRoutes(iam: Hono<AppEnv>): void {
  iam.post('/groups', async (c) => {
    requireIam(c, 'group')
    const { tables, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreateGroup)
    const organizationId = organizationOf(c, body.organization_id, 'group')
    uniqueName(tables, organizationId, body.name)
    const at = timestamp(now())
    const doc: GroupDoc = {
      id: newId(),
      created_at: at,
      updated_at: at,
      organization_id: organizationId,
      name: body.name,
      description: body.description,
      user_ids: [],
      application_ids: [],
      tags: body.tags ?? [],
      editable: true,
      deletable: true,
      managed: false,
    }
    tables.groups.insert(doc)
    return c.json(doc)
  })

  iam.get('/groups', (c) => {
    requireIam(c, 'group')
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = []
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const name = stringParam(query, 'name')
    if (name !== undefined) where.push(raw('instr(lower(name), lower(?)) > 0', name))
    const userIds = uuidListParam(query, 'user_ids')
    if (userIds) where.push(docArrayHasAny('user_ids', userIds))
    const applicationIds = uuidListParam(query, 'application_ids')
    if (applicationIds) where.push(docArrayHasAny('application_ids', applicationIds))
    const groupIds = uuidListParam(query, 'group_ids')
    if (groupIds) where.push(oneOf('id', groupIds))
    const tag = stringParam(query, 'tag')
    if (tag !== undefined) where.push(raw(`EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE instr(value, ?) > 0)`, tag))
    return c.json(listBody('groups', c.var.emulator.tables.groups.list(where, order, page)))
  })

  iam.get('/groups/:id', (c) => {
    requireIam(c, 'group')
    return c.json(loadGroup(c))
  })

  iam.patch('/groups/:id', async (c) => {
    requireIam(c, 'group')
    const doc = loadGroup(c)
    const body = await parseBody(c.req.raw, UpdateGroup)
    if (body.name !== undefined) uniqueName(c.var.emulator.tables, doc.organization_id, body.name, doc.id)
    return save(c, { ...doc, name: body.name ?? doc.name, description: body.description ?? doc.description, tags: body.tags ?? doc.tags })
  })

  iam.delete('/groups/:id', (c) => {
    requireIam(c, 'group')
    const { tables, now } = c.var.emulator
    const doc = loadGroup(c)
    orphanPolicies(tables, 'group', doc.id, now())
    tables.groups.delete(doc.id)
    return c.body(null, 204)
  })

  iam.post('/groups/:id/add-member', async (c) => {
    requireIam(c, 'group')
    const doc = loadGroup(c)
    const member = oneMember(await parseBody(c.req.raw, OneMember))
    const { users, applications } = checkMembers(c.var.emulator.tables, member.user_id ? [member.user_id] : [], member.application_id ? [member.application_id] : [])
    return save(c, { ...doc, user_ids: [...new Set([...doc.user_ids, ...users])], application_ids: [...new Set([...doc.application_ids, ...applications])] })
  })

  iam.post('/groups/:id/add-members', async (c) => {
    requireIam(c, 'group')
    const doc = loadGroup(c)
    const body = await parseBody(c.req.raw, Members)
    const { users, applications } = checkMembers(c.var.emulator.tables, body.user_ids ?? [], body.application_ids ?? [])
    return save(c, { ...doc, user_ids: [...new Set([...doc.user_ids, ...users])], application_ids: [...new Set([...doc.application_ids, ...applications])] })
  })

  iam.post('/groups/:id/remove-member', async (c) => {
    requireIam(c, 'group')
    const doc = loadGroup(c)
    const member = oneMember(await parseBody(c.req.raw, OneMember))
    const userId = member.user_id?.toLowerCase()
    const applicationId = member.application_id?.toLowerCase()
    return save(c, {
      ...doc,
      user_ids: doc.user_ids.filter((id) => id !== userId),
      application_ids: doc.application_ids.filter((id) => id !== applicationId),
    })
  })

  iam.put('/groups/:id/members', async (c) => {
    requireIam(c, 'group')
    const doc = loadGroup(c)
    const body = await parseBody(c.req.raw, Members)
    const { users, applications } = checkMembers(c.var.emulator.tables, body.user_ids ?? [], body.application_ids ?? [])
    return save(c, { ...doc, user_ids: users, application_ids: applications })
  })
}
