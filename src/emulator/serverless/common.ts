/** What the functions and containers APIs share. */
import * as v from 'valibot'
import { allowedProjects } from '../auth/principal.js'
import { REQUIRED_SETS } from '../auth/permission-sets.js'
import { REGIONS } from '../config.js'
import { type AppContext, actionOf, requireSets } from '../context.js'
import type { NamespaceDoc, SecretHashedValue } from '../db/docs.js'
import { type Condition, eq, oneOf } from '../db/table.js'
import { invalidArgument, permissionsDenied, serverlessNotFound } from '../http/errors.js'
import { isUuid, sha256Hex } from '../http/ids.js'

/** The two serverless products. */
export type ProductKey = 'functions' | 'containers'

/** Names and permission sets of a product. */
export interface Product {
  key: ProductKey
  /** `function` or `container`: the resource and token-scope field name. */
  resource: 'function' | 'container'
  notFoundName: 'Function' | 'Container'
  readSets: readonly string[]
  writeSets: readonly string[]
  invokeSets: readonly string[]
}

/** Serverless Functions. */
export const FUNCTIONS: Product = {
  key: 'functions',
  resource: 'function',
  notFoundName: 'Function',
  readSets: REQUIRED_SETS.functionsRead,
  writeSets: REQUIRED_SETS.functionsWrite,
  invokeSets: REQUIRED_SETS.functionsInvoke,
}

/** Serverless Containers. */
export const CONTAINERS: Product = {
  key: 'containers',
  resource: 'container',
  notFoundName: 'Container',
  readSets: REQUIRED_SETS.containersRead,
  writeSets: REQUIRED_SETS.containersWrite,
  invokeSets: REQUIRED_SETS.containersInvoke,
}

/**
 * The `{region}` path parameter.
 * @throws {ScalewayError} 400 for a region the emulator does not serve.
 */
export function regionOf(c: AppContext): string {
  const region = c.req.param('region') ?? ''
  if (!(REGIONS as readonly string[]).includes(region)) throw invalidArgument('region', 'constraint', `must be one of ${REGIONS.join(', ')}`)
  return region
}

/**
 * Refuses (403) unless the caller may act on this Project: reads need the
 * product's FullAccess or ReadOnly set, writes its FullAccess set
 * (`AllProductsFullAccess` covers both).
 */
export function requireProduct(c: AppContext, product: Product, projectId: string, resource: string): void {
  const action = actionOf(c.req.method)
  const sets = action === 'read' ? product.readSets : product.writeSets
  requireSets(c, sets, { organizationId: c.var.emulator.config.organizationId, projectId }, action, resource)
}

/**
 * The list filter for what the caller may read: nothing more when it holds a
 * read set on the whole Organization, else its Projects.
 * @throws {ScalewayError} 403 when it may read no Project at all.
 */
export function readableProjects(c: AppContext, product: Product, resource: string): Condition[] {
  const { tables, config } = c.var.emulator
  const projects = allowedProjects(tables, c.var.principal, product.readSets, config.organizationId)
  if (projects === 'all') return []
  if (projects.length === 0) throw permissionsDenied('read', resource)
  return [oneOf('project_id', projects)]
}

/**
 * A namespace of this product in this region.
 * @throws {ScalewayError} 404 `{"message":"Namespace was not found"}` otherwise.
 */
export function loadNamespace(c: AppContext, product: Product, region: string, id: string): NamespaceDoc {
  const { tables } = c.var.emulator
  const doc = tables.namespaces.find([eq('id', id.toLowerCase()), eq('product', product.key), eq('region', region)])
  if (!doc) throw serverlessNotFound('Namespace')
  return doc
}

/** `{key, value}` secrets as the API shows them: hashed, never the value. */
export async function hashSecrets(secrets: readonly { key: string; value?: string | null | undefined }[]): Promise<SecretHashedValue[]> {
  return Promise.all(secrets.map(async (secret) => ({ key: secret.key, hashed_value: `$sha256$${await sha256Hex(secret.value ?? '')}` })))
}

/** A `{key, value}` secret in a body. */
export const SecretSpec = v.object({ key: v.pipe(v.string(), v.minLength(1)), value: v.optional(v.nullable(v.string())) })

/** A serverless resource name (lower-case letters, digits and dashes, at most 63). */
export const serverlessName = v.pipe(v.string(), v.regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and dashes, at most 63'))

/** Environment variables. */
export const envVars = v.record(v.string(), v.string())

const DURATION = /^(\d+)(?:\.(\d{1,9}))?s$/

/**
 * A duration as the API answers it (protobuf JSON): whole seconds, then 3, 6
 * or 9 fractional digits when there is a fraction. The Go SDK sends
 * `300.000000000s`, answered `300s`; `1.5s` is answered `1.500s`.
 */
export function normalizeDuration(value: string): string {
  const [, seconds = '0', fraction = ''] = DURATION.exec(value) ?? []
  const nanos = fraction.padEnd(9, '0')
  const digits = /0{6}$/.test(nanos) ? 3 : /0{3}$/.test(nanos) ? 6 : 9
  return nanos === '000000000' ? `${BigInt(seconds)}s` : `${BigInt(seconds)}.${nanos.slice(0, digits)}s`
}

/** `300s`-style durations (at most nanosecond precision), answered as {@link normalizeDuration} writes them. */
export const duration = v.pipe(v.string(), v.regex(DURATION, 'must be a duration such as 300s'), v.transform(normalizeDuration))

/** A duration longer than zero. */
export const positiveDuration = v.pipe(duration, v.check((value) => value !== '0s', 'must be longer than 0s'))

/**
 * `private_network_id` in a body: a UUID attaches the workload to that Private
 * Network, `""` detaches it (or creates it without one), absent or `null`
 * leaves it as it is. The network itself is not checked: the emulator has no
 * VPC API.
 */
export const privateNetworkId = v.optional(v.nullable(v.pipe(v.string(), v.check((value) => value === '' || isUuid(value), 'must be a UUID, or "" for none'))))

/** The private network a workload has after a body's `private_network_id` (see {@link privateNetworkId}). */
export function privateNetworkAfter(sent: string | null | undefined, current: string | null): string | null {
  if (sent === undefined || sent === null) return current
  return sent === '' ? null : sent.toLowerCase()
}

/** Random lower-case alphanumerics (the platform's suffix on registry and domain names). */
export function randomSuffix(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return [...crypto.getRandomValues(new Uint8Array(length))].map((byte) => alphabet[byte % alphabet.length]).join('')
}
