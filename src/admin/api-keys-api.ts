/**
 * IAM API keys at the admin API, beyond minting and registering (admin-api.ts):
 * the list `edgegw key ls` shows, rotation with an overlap, revocation that
 * reaches the edge at once, and applications by name. docs/admin-api.md.
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { apiKeyDigest } from '../keyset/digest.js'
import { ApiCallError } from '../sync/api-error.js'
import type { IamApiKey } from '../sync/iam-api.js'
import { inParallel } from '../util/in-parallel.js'
import type { AdminDependencies, SyncRequestOptions } from './admin-api.js'
import { AdminError, isoNow, parseBody, pathId } from './admin-http.js'
import { idRules } from './admin-input.js'
import type { Audit } from './audit-log.js'
import { syncApplied } from './key-set-change.js'

/** Ten years: longer overlaps are typos. */
const MAX_SECONDS = 10 * 365 * 86_400

/** The body of `POST /api-keys/{access key}/rotate`. */
export const RotateKeyBody = v.strictObject({
  overlap_seconds: v.pipe(v.number('expected a number of seconds'), v.integer('expected a whole number of seconds'), v.minValue(1, 'at least 1'), v.maxValue(MAX_SECONDS, 'at most ten years')),
  expires_at: v.optional(v.pipe(v.string('expected an RFC 3339 time'), v.isoTimestamp('expected an RFC 3339 time'))),
  description: v.optional(v.pipe(v.string('expected a string'), v.maxLength(200, 'at most 200 characters'))),
})

/** A key as `GET /api-keys` lists it: never a secret. */
export interface ApiKeyListItem {
  access_key: string
  bearer: { type: 'application' | 'user'; id: string; name: string | null }
  kind: 'personal' | 'ci' | 'service' | null
  description: string
  created_at: string | null
  expires_at: string | null
  default_project_id: string
  captured: boolean
  captured_at: string | null
  captured_via: 'mint' | 'register' | null
}

const accessKeyParam = (c: Context): string => pathId(c, 'accessKey', 'access key', idRules.accessKey)

/** An IAM 404 for the key as the admin API's own 404. */
async function iamKeyOr404<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ApiCallError && error.status === 404) throw new AdminError(404, 'api_key_not_found', 'IAM has no API key with this access key')
    throw error
  }
}

/** Adds the API-key list, rotation, revocation and application lookup endpoints. */
export function apiKeyRoutes(app: Hono, dependencies: (c: Context) => AdminDependencies, audit: Audit): void {
  app.get('/api-keys', async (c) => {
    const deps = dependencies(c)
    const page = intQuery(c, 'page', 1, 1, 100_000)
    const pageSize = intQuery(c, 'page_size', 100, 1, 100)
    const applicationId = c.req.query('application_id')
    if (applicationId !== undefined && !v.is(v.pipe(v.string(), v.uuid()), applicationId)) throw new AdminError(400, 'invalid_query', 'application_id: expected a UUID')
    const listed = await deps.iam.listApiKeysPage(deps.organizationId, page, pageSize, applicationId ? { application_id: applicationId } : {})
    const names = await bearerNames(deps, listed.api_keys)
    const items: ApiKeyListItem[] = new Array(listed.api_keys.length)
    await inParallel([...listed.api_keys.entries()], 6, async ([index, key]) => {
      const capture = await deps.registry.capturedKey(key.access_key)
      const bearerId = (key.application_id ?? key.user_id)!
      items[index] = {
        access_key: key.access_key,
        bearer: { type: key.application_id ? 'application' : 'user', id: bearerId, name: names.get(bearerId) ?? null },
        kind: capture?.kind ?? null,
        description: key.description,
        created_at: key.created_at ?? null,
        expires_at: key.expires_at ?? null,
        default_project_id: key.default_project_id,
        captured: capture !== undefined,
        captured_at: capture?.capturedAt ?? null,
        captured_via: capture?.via ?? null,
      }
    })
    return c.json({ data: items, total_count: listed.total_count, page, page_size: pageSize })
  })

  app.get('/applications', async (c) => {
    const deps = dependencies(c)
    const name = c.req.query('name')
    if (!name || name.length > 64) throw new AdminError(400, 'invalid_query', 'name: required, at most 64 characters')
    const applications = await deps.iam.listApplicationsNamed(deps.organizationId, name)
    return c.json({ data: applications.filter((a) => a.name === name).map((a) => ({ id: a.id, name: a.name, description: a.description })) })
  })

  app.post('/api-keys/:accessKey/rotate', async (c) => {
    const accessKey = accessKeyParam(c)
    const body = await parseBody(c, RotateKeyBody)
    const deps = dependencies(c)
    const now = (deps.clock ?? Date.now)()
    const old = await iamKeyOr404(() => deps.iam.getApiKey(accessKey))
    const capture = await deps.registry.capturedKey(accessKey)
    const expiresAt = body.expires_at ?? sameLifetime(old, now)
    if (expiresAt !== undefined && Date.parse(expiresAt) <= now) throw new AdminError(400, 'invalid_body', 'expires_at: must be in the future')
    const created = await deps.iam.createApiKey({
      ...(old.application_id ? { application_id: old.application_id } : { user_id: old.user_id! }),
      description: body.description ?? (old.description || `rotated from ${accessKey}`),
      ...(old.default_project_id ? { default_project_id: old.default_project_id } : {}),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    })
    // The platform has just returned this secret: it is the truth, whatever was captured before.
    await deps.registry.captureKey(created.access_key, { digest: await apiKeyDigest(created.secret_key), kind: capture?.kind, capturedAt: isoNow(deps.clock), via: 'mint' }, { replace: true })
    // The old key ends with the overlap, never later than it would have anyway.
    const overlapEnd = new Date(now + body.overlap_seconds * 1000).toISOString()
    const keep = old.expires_at && Date.parse(old.expires_at) <= Date.parse(overlapEnd)
    let previous: { access_key: string; expires_at: string | null; error?: string } = { access_key: accessKey, expires_at: old.expires_at ?? null }
    if (!keep) {
      try {
        const updated = await deps.iam.updateApiKey(accessKey, { expires_at: overlapEnd })
        previous = { access_key: accessKey, expires_at: updated.expires_at ?? overlapEnd }
      } catch (error) {
        // The new key exists and its secret must reach the caller: the failure is reported, not thrown.
        previous = { ...previous, error: `the old key's expiry could not be set: ${(error as Error).message}` }
      }
    }
    audit(c, 'api_key.rotate', accessKey)
    const sync = await syncOutcome(deps)
    c.header('cache-control', 'no-store')
    return c.json({ ...created, kind: capture?.kind ?? null, previous, sync, note: 'The secret is shown once. The previous key keeps working until previous.expires_at.' }, 201)
  })

  app.delete('/api-keys/:accessKey', async (c) => {
    const accessKey = accessKeyParam(c)
    const deps = dependencies(c)
    let deleted = true
    try {
      await deps.iam.deleteApiKey(accessKey)
    } catch (error) {
      // Deleted in IAM already (by someone else): what the gateway captured still goes.
      if (!(error instanceof ApiCallError && error.status === 404)) throw error
      deleted = false
    }
    const captured = await deps.registry.forgetKey(accessKey)
    if (!deleted && !captured) throw new AdminError(404, 'api_key_not_found', 'IAM has no API key with this access key, and the gateway captured none')
    audit(c, 'api_key.revoke', accessKey)
    // At once, not at the next Cron: the edge refuses the key once this sync has written the key set.
    const sync = await syncOutcome(deps, { reason: 'api_key.revoke', revokeAccessKeys: [accessKey] })
    return c.json({ access_key: accessKey, deleted, capture_forgotten: captured, sync })
  })
}

/** A rotated key lives as long as the old one did (created → expires), when it had an expiry. */
function sameLifetime(old: IamApiKey, now: number): string | undefined {
  if (!old.expires_at || !old.created_at) return undefined
  const lifetime = Date.parse(old.expires_at) - Date.parse(old.created_at)
  return Number.isFinite(lifetime) && lifetime > 0 ? new Date(now + lifetime).toISOString() : undefined
}

async function syncOutcome(deps: AdminDependencies, request?: SyncRequestOptions): Promise<{ ok: boolean; changed: boolean; error: string | null }> {
  try {
    const outcome = await deps.sync(request)
    // This isolate serves the new key set on its next request (docs/revocation.md).
    syncApplied(deps.keySet, outcome)
    // A revocation changed the key set in its first step; the run's own commit then finds nothing more to change.
    const changed = (outcome.write?.changed ?? false) || (outcome.revoked?.keysRemoved ?? 0) > 0
    return { ok: outcome.ok, changed, error: outcome.status?.lastError?.message ?? null }
  } catch (error) {
    return { ok: false, changed: false, error: (error as Error).message }
  }
}

/** Application names and user e-mails for a page of keys (at most 100 distinct bearers, six at a time). */
async function bearerNames(deps: AdminDependencies, keys: readonly IamApiKey[]): Promise<Map<string, string>> {
  const names = new Map<string, string>()
  const bearers = [...new Map(keys.map((k) => [k.application_id ?? k.user_id ?? '', k.application_id ? 'application' : 'user'] as const)).entries()].filter(([id]) => id !== '')
  await inParallel(bearers, 6, async ([id, type]) => {
    try {
      names.set(id, type === 'application' ? (await deps.iam.getApplication(id)).name : (await deps.iam.getUser(id)).email)
    } catch {
      // A bearer IAM cannot show (deleted since, or not readable with the gateway's key): listed by id.
    }
  })
  return names
}

function intQuery(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) throw new AdminError(400, 'invalid_query', `${name}: expected an integer from ${min} to ${max}`)
  return value
}
