/**
 * `/{functions,containers}/v1beta1/regions/{region}/tokens`: legacy tokens.
 * Create answers the JWT and the namespace's public key, once; get and list
 * answer `"token":"<hidden>"` and `"public_key":""`, as the live API does;
 * delete revokes (the platform refuses the token from then on).
 */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppContext, AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { ContainerDoc, FunctionDoc, NamespaceDoc, TokenDoc } from '../db/docs.js'
import { type Condition, eq, raw, type Table } from '../db/table.js'
import { invalidArgument, serverlessNotFound } from '../http/errors.js'
import { echoInstant, newId, timestamp } from '../http/ids.js'
import { orderBy, orderOf, pageRequest, uuidParam } from '../http/query.js'
import { instant, parseBody, uuid } from '../http/validate.js'
import { loadNamespace, type Product, readableProjects, regionOf, requireProduct } from './common.js'
import { signToken } from './signing.js'
import { loadWorkload } from './workloads.js'

const ORDERS = ['created_at_asc', 'created_at_desc'] as const
const HIDDEN = '<hidden>'

const TokenFields = {
  namespace_id: v.optional(uuid),
  description: v.optional(v.nullable(v.string())),
  expires_at: v.optional(v.nullable(instant)),
}
const CreateFunctionToken = v.object({ function_id: v.optional(uuid), ...TokenFields })
const CreateContainerToken = v.object({ container_id: v.optional(uuid), ...TokenFields })

function loadToken(c: AppContext, product: Product, region: string, id: string): { doc: TokenDoc; namespace: NamespaceDoc } {
  const { tables } = c.var.emulator
  const doc = tables.tokens.find([eq('id', id.toLowerCase()), eq('product', product.key), eq('region', region)])
  if (!doc) throw serverlessNotFound('Token')
  const row = tables.sql.exec<{ namespace_id: string }>('SELECT namespace_id FROM tokens WHERE id = ?', doc.id).one()
  return { doc, namespace: loadNamespace(c, product, region, row.namespace_id) }
}

/** Registers the token routes of one product on its regional router. */
export function tokenRoutes(api: Hono<AppEnv>, product: Product): void {
  const scopeField = `${product.resource}_id` as 'function_id' | 'container_id'
  const Create = product.key === 'functions' ? CreateFunctionToken : CreateContainerToken

  api.post('/tokens', async (c) => {
    const region = regionOf(c)
    const { tables, signingKeys, now } = c.var.emulator
    const body = await parseBody(c.req.raw, Create)
    const resourceId = 'function_id' in body ? body.function_id : 'container_id' in body ? body.container_id : undefined
    if ((resourceId === undefined) === (body.namespace_id === undefined)) {
      throw invalidArgument(scopeField, 'required', `precisely one of ${scopeField}, namespace_id must be set`)
    }
    if (body.expires_at && body.expires_at.getTime() <= now().getTime()) throw invalidArgument('expires_at', 'constraint', 'must be in the future')
    let namespace: NamespaceDoc
    if (resourceId !== undefined) {
      const table = product.key === 'functions' ? tables.functions : tables.containers
      namespace = loadWorkload<FunctionDoc | ContainerDoc>(c, product, table as Table<FunctionDoc | ContainerDoc>, region, resourceId).namespace
    } else {
      namespace = loadNamespace(c, product, region, body.namespace_id!)
    }
    requireProduct(c, product, namespace.project_id, 'token')
    const id = newId()
    const issuedAt = now()
    const key = await signingKeys.forNamespace(namespace.id)
    const token = await signToken(key, {
      tokenId: id,
      // A resource token names only the resource, with an empty namespace, as the platform's do.
      namespaceId: resourceId === undefined ? namespace.id : '',
      applicationId: resourceId?.toLowerCase() ?? '',
      issuedAt,
      ...(body.expires_at ? { expiresAt: body.expires_at } : {}),
    })
    const doc: TokenDoc = {
      description: body.description ?? '',
      expires_at: body.expires_at ? echoInstant(body.expires_at) : null,
      ...(resourceId !== undefined ? { [scopeField]: resourceId.toLowerCase() } : { namespace_id: namespace.id }),
      id,
      public_key: '',
      status: 'ready',
      token: HIDDEN,
    }
    tables.tokens.insert(doc, { product: product.key, region, namespace_id: namespace.id, resource_id: resourceId?.toLowerCase() ?? null, created_at: timestamp(issuedAt) })
    return c.json({ ...doc, public_key: key.publicPem, status: 'creating', token })
  })

  api.get('/tokens', (c) => {
    const region = regionOf(c)
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), { created_at: 'created_at' })
    const projectFilter = readableProjects(c, product, 'token')
    const where: Condition[] = [eq('product', product.key), eq('region', region)]
    if (projectFilter.length) {
      const projects = projectFilter[0]!
      where.push(raw(`namespace_id IN (SELECT id FROM namespaces WHERE ${projects.sql})`, ...projects.params))
    }
    const resourceId = uuidParam(query, scopeField)
    if (resourceId !== undefined) where.push(eq('resource_id', resourceId))
    const namespaceId = uuidParam(query, 'namespace_id')
    if (namespaceId !== undefined) where.push(eq('namespace_id', namespaceId))
    return c.json(listBody('tokens', c.var.emulator.tables.tokens.list(where, order, page)))
  })

  api.get('/tokens/:id', (c) => {
    const { doc, namespace } = loadToken(c, product, regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, 'token')
    return c.json(doc)
  })

  api.delete('/tokens/:id', (c) => {
    const { doc, namespace } = loadToken(c, product, regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, 'token')
    c.var.emulator.tables.tokens.delete(doc.id)
    return c.json({ ...doc, status: 'deleting' })
  })
}
