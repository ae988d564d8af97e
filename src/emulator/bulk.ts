/**
 * Test-only seeding and reset (admin secret): `POST /emulator/bulk/api-keys` makes up to
 * 100,000 API keys in one SQLite transaction, with secrets derived from their index
 * (src/emulator/bulk-keys.ts); `POST /emulator/reset` empties every table and seeds the
 * owner again. docs/emulator.md.
 */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from './context.js'
import type { ApiKeyDoc } from './db/docs.js'
import { RESOURCE_TABLES, type ResourceTableName } from './db/schema.js'
import { BULK_MAX_KEYS, bulkAccessKey, bulkSecret } from './bulk-keys.js'
import type { FaultSwitch } from './faults.js'
import { notFound, invalidArgument } from './http/errors.js'
import { echoInstant, secretDigest, timestamp } from './http/ids.js'
import { description, instant, parseBody, uuid } from './http/validate.js'
import { seed } from './seed.js'

const BulkApiKeys = v.object({
  /** Keys `start` … `start + count - 1`. */
  count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(BULK_MAX_KEYS)),
  start: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1e15)), 0),
  application_id: v.optional(uuid),
  user_id: v.optional(uuid),
  expires_at: v.optional(v.nullable(instant)),
  description: v.optional(description, 'bulk'),
})

/** Registers the bulk and reset routes (behind the admin-secret check of `/emulator/*`). */
export function bulkRoutes(app: Hono<AppEnv>, faults: FaultSwitch): void {
  app.post('/emulator/bulk/api-keys', async (c) => {
    const { tables, config, now } = c.var.emulator
    const body = await parseBody(c.req.raw, BulkApiKeys)
    if ((body.application_id === undefined) === (body.user_id === undefined)) {
      throw invalidArgument(body.user_id === undefined ? 'user_id' : 'application_id', 'required', 'precisely one of application_id, user_id must be set')
    }
    if (body.user_id !== undefined && !tables.users.get(body.user_id)) throw notFound('user', body.user_id)
    if (body.application_id !== undefined && !tables.applications.get(body.application_id)) throw notFound('application', body.application_id)
    const at = timestamp(now())
    const bearer = body.application_id !== undefined ? { application_id: body.application_id.toLowerCase() } : { user_id: body.user_id!.toLowerCase() }
    let created = 0
    // One Durable Object event: SQLite commits every insert together.
    for (let index = body.start; index < body.start + body.count; index++) {
      const doc: ApiKeyDoc = {
        access_key: bulkAccessKey(index),
        secret_key: null,
        description: body.description,
        created_at: at,
        updated_at: at,
        expires_at: body.expires_at ? echoInstant(body.expires_at) : null,
        default_project_id: config.defaultProjectId,
        editable: true,
        deletable: true,
        managed: false,
        creation_ip: '127.0.0.1',
        ...bearer,
      }
      if (tables.sql.exec('SELECT 1 FROM api_keys WHERE id = ?', doc.access_key).toArray().length > 0) continue
      tables.apiKeys.insert(doc, { secret_digest: await secretDigest(bulkSecret(index)) })
      created++
    }
    return c.json({ created, first_access_key: bulkAccessKey(body.start), last_access_key: bulkAccessKey(body.start + body.count - 1) })
  })

  app.post('/emulator/reset', (c) => {
    const { tables, config, now } = c.var.emulator
    for (const table of Object.keys(RESOURCE_TABLES) as ResourceTableName[]) tables.sql.exec(`DELETE FROM ${table}`)
    tables.sql.exec('DELETE FROM namespace_keys')
    faults.set({ mode: 'none', paths: 'iam' })
    seed(tables, config, now())
    return c.json({ reset: true })
  })
}
