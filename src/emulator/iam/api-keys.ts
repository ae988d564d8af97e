/**
 * `/iam/v1alpha1/api-keys`: create (the only answer carrying `secret_key`),
 * list, get, update, delete. Only the SHA-256 digest of a secret is stored.
 */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { ApiKeyDoc } from '../db/docs.js'
import { type Condition, contains, eq, oneOf, raw } from '../db/table.js'
import { invalidArgument, notFound, permissionsDenied } from '../http/errors.js'
import { echoInstant, newAccessKey, newId, secretDigest, timestamp } from '../http/ids.js'
import { booleanParam, orderBy, orderOf, pageRequest, stringParam, uuidParam } from '../http/query.js'
import { description, instant, parseBody, uuid } from '../http/validate.js'
import { requireIam } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'updated_at_asc', 'updated_at_desc', 'expires_at_asc', 'expires_at_desc', 'access_key_asc', 'access_key_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', updated_at: 'updated_at', expires_at: 'expires_at', access_key: 'id' }

const CreateApiKey = v.object({
  application_id: v.optional(uuid),
  user_id: v.optional(uuid),
  expires_at: v.optional(v.nullable(instant)),
  default_project_id: v.optional(v.nullable(uuid)),
  description: v.optional(description, ''),
})

const UpdateApiKey = v.object({
  default_project_id: v.optional(uuid),
  description: v.optional(description),
  expires_at: v.optional(v.nullable(instant)),
})

/** Puts the bearer last, as the platform does. */
function ordered(doc: ApiKeyDoc, secret: string | null): Record<string, unknown> {
  const { application_id, user_id, secret_key: _hidden, ...rest } = doc
  const [accessKey, ...others] = Object.entries(rest)
  return {
    ...Object.fromEntries([accessKey!, ['secret_key', secret], ...others]),
    ...(application_id !== undefined ? { application_id } : {}),
    ...(user_id !== undefined ? { user_id } : {}),
  }
}

/** Registers the API-key routes on the IAM router. */
export function apiKeyRoutes(iam: Hono<AppEnv>): void {
  iam.post('/api-keys', async (c) => {
    requireIam(c, 'api_key')
    const { tables, config, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreateApiKey)
    if ((body.application_id === undefined) === (body.user_id === undefined)) {
      throw invalidArgument(body.user_id === undefined ? 'user_id' : 'application_id', 'required', 'precisely one of application_id, user_id must be set')
    }
    if (body.user_id !== undefined && !tables.users.get(body.user_id)) throw notFound('user', body.user_id)
    if (body.application_id !== undefined && !tables.applications.get(body.application_id)) throw notFound('application', body.application_id)
    if (body.expires_at && body.expires_at.getTime() <= now().getTime()) throw invalidArgument('expires_at', 'constraint', 'must be in the future')
    const at = timestamp(now())
    let accessKey = newAccessKey()
    while (tables.apiKeys.get(accessKey)) accessKey = newAccessKey()
    const secret = newId()
    const doc: ApiKeyDoc = {
      access_key: accessKey,
      secret_key: null,
      description: body.description,
      created_at: at,
      updated_at: at,
      expires_at: body.expires_at ? echoInstant(body.expires_at) : null,
      default_project_id: body.default_project_id ?? config.defaultProjectId,
      editable: true,
      deletable: true,
      managed: false,
      creation_ip: c.req.header('cf-connecting-ip') ?? '127.0.0.1',
      ...(body.application_id !== undefined ? { application_id: body.application_id.toLowerCase() } : { user_id: body.user_id!.toLowerCase() }),
    }
    tables.apiKeys.insert(doc, { secret_digest: await secretDigest(secret) })
    return c.json(ordered(doc, secret))
  })

  iam.get('/api-keys', (c) => {
    requireIam(c, 'api_key')
    const { tables, config, now } = c.var.emulator
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = []
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined && organizationId !== config.organizationId) where.push(raw('0'))
    const applicationId = uuidParam(query, 'application_id')
    const userId = uuidParam(query, 'user_id')
    const bearerId = uuidParam(query, 'bearer_id')
    if (applicationId) where.push(eq('bearer_type', 'application'), eq('bearer_id', applicationId))
    if (userId) where.push(eq('bearer_type', 'user'), eq('bearer_id', userId))
    if (bearerId) where.push(eq('bearer_id', bearerId))
    const bearerType = stringParam(query, 'bearer_type')
    if (bearerType !== undefined && bearerType !== 'unknown_bearer_type') {
      if (bearerType !== 'user' && bearerType !== 'application') throw invalidArgument('bearer_type', 'format', 'must be user or application')
      where.push(eq('bearer_type', bearerType))
    }
    const editable = booleanParam(query, 'editable')
    if (editable !== undefined) where.push(eq('editable', editable ? 1 : 0))
    const expired = booleanParam(query, 'expired')
    const at = timestamp(now())
    if (expired === true) where.push(raw('expires_at IS NOT NULL AND expires_at <= ?', at))
    if (expired === false) where.push(raw('expires_at IS NULL OR expires_at > ?', at))
    const accessKeys = [...query.getAll('access_keys').flatMap((value) => value.split(',')), ...query.getAll('access_key')].filter(Boolean)
    if (accessKeys.length) where.push(oneOf('id', accessKeys))
    const text = stringParam(query, 'description')
    if (text !== undefined) where.push(contains('description', text))
    const result = tables.apiKeys.list(where, order, page)
    return c.json(listBody('api_keys', { items: result.items.map((doc) => ordered(doc, null)), total: result.total }))
  })

  iam.get('/api-keys/:access_key', (c) => {
    requireIam(c, 'api_key')
    const accessKey = c.req.param('access_key')
    const doc = c.var.emulator.tables.apiKeys.get(accessKey)
    if (!doc) throw notFound('api_key', accessKey)
    return c.json(ordered(doc, null))
  })

  iam.patch('/api-keys/:access_key', async (c) => {
    requireIam(c, 'api_key')
    const { tables, now } = c.var.emulator
    const accessKey = c.req.param('access_key')
    const doc = tables.apiKeys.get(accessKey)
    if (!doc) throw notFound('api_key', accessKey)
    const body = await parseBody(c.req.raw, UpdateApiKey)
    if (!doc.editable) throw permissionsDenied('write', 'api_key')
    if (body.expires_at && body.expires_at.getTime() <= now().getTime()) throw invalidArgument('expires_at', 'constraint', 'must be in the future')
    const updated: ApiKeyDoc = {
      ...doc,
      description: body.description ?? doc.description,
      default_project_id: body.default_project_id?.toLowerCase() ?? doc.default_project_id,
      expires_at: body.expires_at === undefined ? doc.expires_at : body.expires_at === null ? null : echoInstant(body.expires_at),
      updated_at: timestamp(now()),
    }
    tables.apiKeys.update(updated)
    return c.json(ordered(updated, null))
  })

  iam.delete('/api-keys/:access_key', (c) => {
    requireIam(c, 'api_key')
    const { tables } = c.var.emulator
    const accessKey = c.req.param('access_key')
    const doc = tables.apiKeys.get(accessKey)
    if (!doc) throw notFound('api_key', accessKey)
    if (!doc.deletable) throw permissionsDenied('delete', 'api_key')
    tables.apiKeys.delete(accessKey)
    return c.body(null, 204)
  })
}
