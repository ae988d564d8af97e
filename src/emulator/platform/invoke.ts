/**
 * The platform itself: `ANY /platform/functions/{id}/…` and
 * `/platform/containers/{id}/…` act as the deployed function or container.
 * A private one refuses (403) any call without, in `X-Auth-Token`, either a
 * live legacy token that covers it, or the secret of an API key whose bearer
 * holds FunctionsPrivateAccess (containers: ContainersPrivateAccess) on its
 * Project or Organization. A rule with a condition does not count here.
 * Allowed calls get a JSON echo of what the workload received.
 */
import type { Hono } from 'hono'
import { authenticate, isAllowed } from '../auth/principal.js'
import type { AppContext, AppEnv, Emulator } from '../context.js'
import type { ContainerDoc, FunctionDoc } from '../db/docs.js'
import { ScalewayError } from '../http/errors.js'
import { CONTAINERS, FUNCTIONS, type Product } from '../serverless/common.js'
import { verifyToken } from '../serverless/signing.js'

const MAX_ECHOED_BODY = 64 * 1024
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** How a call was let in. */
type Credential = 'none' | 'iam_api_key' | 'legacy_token'

function refuse(message: string): ScalewayError {
  return new ScalewayError(403, { message })
}

/** Does a live legacy token cover this workload? */
async function legacyTokenCovers(emulator: Emulator, product: Product, workload: FunctionDoc | ContainerDoc, token: string): Promise<boolean> {
  const key = await emulator.signingKeys.find(workload.namespace_id)
  if (!key) return false
  let payload: Awaited<ReturnType<typeof verifyToken>>
  try {
    payload = await verifyToken(key, token, emulator.now())
  } catch {
    return false
  }
  if (typeof payload.jti !== 'string') return false
  // Revocation: the token must still exist.
  const live = emulator.tables.tokens.get(payload.jti)
  if (!live) return false
  const scopeField = product.key === 'functions' ? 'function_id' : 'container_id'
  const claims = Array.isArray(payload.application_claim) ? (payload.application_claim as { namespace_id?: string; application_id?: string }[]) : []
  const claimCovers = claims.some((claim) => claim.namespace_id === workload.namespace_id || claim.application_id === workload.id)
  const rowCovers = live.namespace_id === workload.namespace_id || live[scopeField] === workload.id
  return claimCovers && rowCovers
}

/** Does an IAM API key secret grant the invoke permission set on the workload's Project? */
async function apiKeyCovers(emulator: Emulator, product: Product, projectId: string, secret: string): Promise<boolean> {
  const adminSecret = emulator.adminSecret() ?? ''
  try {
    const principal = await authenticate(emulator.tables, emulator.config, adminSecret, secret, emulator.now())
    return isAllowed(emulator.tables, principal, product.invokeSets, { organizationId: emulator.config.organizationId, projectId })
  } catch {
    return false
  }
}

async function invoke(c: AppContext, product: Product): Promise<Response> {
  const emulator = c.var.emulator
  const id = (c.req.param('id') ?? '').toLowerCase()
  const table = product.key === 'functions' ? emulator.tables.functions : emulator.tables.containers
  const workload = (table.get(id) as FunctionDoc | ContainerDoc | undefined) ?? undefined
  if (!workload) return c.json({ message: `${product.notFoundName} was not found` }, 404)
  const namespace = emulator.tables.namespaces.get(workload.namespace_id)
  if (!namespace) return c.json({ message: 'Namespace was not found' }, 404)
  let credential: Credential = 'none'
  if (workload.privacy === 'private') {
    const presented = c.req.header('x-auth-token')?.trim()
    if (!presented) throw refuse(`this ${product.resource} is private: a credential is required in X-Auth-Token`)
    if (JWT_SHAPE.test(presented)) {
      if (!(await legacyTokenCovers(emulator, product, workload, presented))) throw refuse(`the token is invalid, revoked, expired or does not cover this ${product.resource}`)
      credential = 'legacy_token'
    } else {
      if (!(await apiKeyCovers(emulator, product, namespace.project_id, presented))) throw refuse(`the API key is unknown, expired or lacks ${product.invokeSets.join(' or ')} on this Project`)
      credential = 'iam_api_key'
    }
  }
  const url = new URL(c.req.url)
  const prefix = `/platform/${product.key}/${c.req.param('id')}`
  const headers: Record<string, string> = {}
  for (const [name, value] of c.req.raw.headers) headers[name] = name === 'x-auth-token' ? '[redacted]' : value
  const body = c.req.raw.body ? (await c.req.text()).slice(0, MAX_ECHOED_BODY) : null
  return c.json({
    resource: { kind: product.resource, id: workload.id, name: workload.name, namespace_id: workload.namespace_id, project_id: namespace.project_id, privacy: workload.privacy },
    credential,
    method: c.req.method,
    path: url.pathname.slice(prefix.length) || '/',
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  })
}

/** Registers the platform routes. */
export function platformRoutes(app: Hono<AppEnv>): void {
  for (const product of [FUNCTIONS, CONTAINERS]) {
    app.all(`/platform/${product.key}/:id`, (c) => invoke(c, product))
    app.all(`/platform/${product.key}/:id/*`, (c) => invoke(c, product))
  }
}
