/** `/iam/v1alpha1/users`: the seeded owner and the members an owner adds. */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { UserDoc } from '../db/docs.js'
import { type Condition, eq, oneOf, raw } from '../db/table.js'
import { alreadyExists, invalidArgument, notFound, permissionsDenied } from '../http/errors.js'
import { newId, timestamp } from '../http/ids.js'
import { booleanParam, orderBy, orderOf, pageRequest, stringParam, uuidListParam, uuidParam } from '../http/query.js'
import { parseBody, tags, uuid } from '../http/validate.js'
import { removePrincipal } from './cascade.js'
import { organizationOf, requireIam } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'updated_at_asc', 'updated_at_desc', 'email_asc', 'email_desc', 'last_login_asc', 'last_login_desc', 'username_asc', 'username_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', updated_at: 'updated_at', email: 'email', last_login: 'last_login_at', username: 'email' }

const email = v.pipe(v.string(), v.email('must be an email address'))

const CreateUser = v.object({
  organization_id: v.optional(uuid),
  email: v.optional(email),
  tags: v.optional(v.nullable(tags)),
  member: v.optional(
    v.object({
      email,
      username: v.optional(v.pipe(v.string(), v.minLength(2), v.maxLength(64), v.regex(/^[a-zA-Z0-9._-]+$/))),
      first_name: v.optional(v.string(), ''),
      last_name: v.optional(v.string(), ''),
      phone_number: v.optional(v.string(), ''),
      locale: v.optional(v.string(), 'en_US'),
    }),
  ),
})

const UpdateUser = v.object({
  tags: v.optional(tags),
  email: v.optional(email),
  first_name: v.optional(v.string()),
  last_name: v.optional(v.string()),
  phone_number: v.optional(v.string()),
  locale: v.optional(v.string()),
})

/** The seeded owner of the Organization (`type: owner`, not deletable). */
export function ownerUser(id: string, organizationId: string, at: string): UserDoc {
  return {
    id,
    email: 'owner@emulator.invalid',
    username: 'owner@emulator.invalid',
    first_name: '',
    last_name: '',
    phone_number: '',
    locale: 'en_US',
    created_at: at,
    updated_at: at,
    organization_id: organizationId,
    deletable: false,
    last_login_at: null,
    type: 'owner',
    two_factor_enabled: false,
    status: 'activated',
    mfa: false,
    account_root_user_id: id,
    tags: [],
    locked: false,
  }
}

/** Registers the user routes on the IAM router. */
export function userRoutes(iam: Hono<AppEnv>): void {
  iam.post('/users', async (c) => {
    requireIam(c, 'user')
    const { tables, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreateUser)
    if ((body.email === undefined) === (body.member === undefined)) throw invalidArgument('email', 'required', 'precisely one of email, member must be set')
    const address = (body.email ?? body.member?.email ?? '').toLowerCase()
    if (tables.users.find([eq('email', address)])) {
      throw alreadyExists('user', address, 'a user with this email already exists')
    }
    const at = timestamp(now())
    const id = newId()
    const doc: UserDoc = {
      id,
      email: address,
      username: body.member?.username ?? address,
      first_name: body.member?.first_name ?? '',
      last_name: body.member?.last_name ?? '',
      phone_number: body.member?.phone_number ?? '',
      locale: body.member?.locale ?? 'en_US',
      created_at: at,
      updated_at: at,
      organization_id: organizationOf(c, body.organization_id, 'user'),
      deletable: true,
      last_login_at: null,
      type: 'member',
      two_factor_enabled: false,
      status: body.member ? 'activated' : 'invitation_pending',
      mfa: false,
      account_root_user_id: newId(),
      tags: body.tags ?? [],
      locked: false,
    }
    tables.users.insert(doc)
    return c.json(doc)
  })

  iam.get('/users', (c) => {
    requireIam(c, 'user')
    const { tables } = c.var.emulator
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = []
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const ids = uuidListParam(query, 'user_ids')
    if (ids) where.push(oneOf('id', ids))
    const mfa = booleanParam(query, 'mfa')
    if (mfa !== undefined) where.push(eq('mfa', mfa ? 1 : 0))
    const type = stringParam(query, 'type')
    if (type !== undefined && type !== 'unknown_type') where.push(eq('type', type))
    const tag = stringParam(query, 'tag')
    if (tag !== undefined) where.push(raw(`EXISTS (SELECT 1 FROM json_each(doc, '$.tags') WHERE instr(value, ?) > 0)`, tag))
    return c.json(listBody('users', tables.users.list(where, order, page)))
  })

  iam.get('/users/:id', (c) => {
    requireIam(c, 'user')
    const doc = c.var.emulator.tables.users.get(c.req.param('id'))
    if (!doc) throw notFound('user', c.req.param('id'))
    return c.json(doc)
  })

  iam.patch('/users/:id', async (c) => {
    requireIam(c, 'user')
    const { tables, now } = c.var.emulator
    const doc = tables.users.get(c.req.param('id'))
    if (!doc) throw notFound('user', c.req.param('id'))
    const body = await parseBody(c.req.raw, UpdateUser)
    const updated: UserDoc = {
      ...doc,
      tags: body.tags ?? doc.tags,
      email: body.email?.toLowerCase() ?? doc.email,
      first_name: body.first_name ?? doc.first_name,
      last_name: body.last_name ?? doc.last_name,
      phone_number: body.phone_number ?? doc.phone_number,
      locale: body.locale ?? doc.locale,
      updated_at: timestamp(now()),
    }
    tables.users.update(updated)
    return c.json(updated)
  })

  iam.delete('/users/:id', (c) => {
    requireIam(c, 'user')
    const { tables, now } = c.var.emulator
    const id = c.req.param('id')
    const doc = tables.users.get(id)
    if (!doc) throw notFound('user', id)
    // "Owners cannot be deleted" (User.deletable).
    if (!doc.deletable) throw permissionsDenied('delete', 'user')
    removePrincipal(tables, 'user', id, now())
    tables.users.delete(id)
    return c.body(null, 204)
  })
}
