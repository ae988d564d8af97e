/**
 * Routes shared by functions and containers ("workloads"): create, list, get,
 * update, delete and deploy. The product files give the fields.
 */
import type { Hono } from 'hono'
import type * as v from 'valibot'
import type { AppContext, AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { ContainerDoc, FunctionDoc, NamespaceDoc } from '../db/docs.js'
import { type Condition, contains, eq, type Table } from '../db/table.js'
import { serverlessNotFound } from '../http/errors.js'
import { timestamp } from '../http/ids.js'
import { orderBy, orderOf, pageRequest, stringParam, uuidParam } from '../http/query.js'
import { parseBody } from '../http/validate.js'
import { loadNamespace, type Product, readableProjects, regionOf, requireProduct } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'name_asc', 'name_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', name: 'name' }

/** A function or a container. */
export type WorkloadDoc = FunctionDoc | ContainerDoc

/** What a product tells the shared routes. */
export interface WorkloadSpec<Doc extends WorkloadDoc, Create extends v.GenericSchema, Update extends v.GenericSchema> {
  product: Product
  /** `functions` or `containers`: the path segment and the list key. */
  collection: 'functions' | 'containers'
  table: (c: AppContext) => Table<Doc>
  create: Create
  update: Update
  /** Builds a new document (the namespace is already loaded and checked). */
  build: (body: v.InferOutput<Create>, namespace: NamespaceDoc, at: string) => Promise<Doc>
  /** Applies an update body. */
  apply: (doc: Doc, body: v.InferOutput<Update>) => Promise<Doc>
}

/** The workload with this id in this region, with its namespace. */
export function loadWorkload<Doc extends WorkloadDoc>(c: AppContext, product: Product, table: Table<Doc>, region: string, id: string): { doc: Doc; namespace: NamespaceDoc } {
  const doc = table.find([eq('id', id.toLowerCase()), eq('region', region)])
  if (!doc) throw serverlessNotFound(product.notFoundName)
  return { doc, namespace: loadNamespace(c, product, region, doc.namespace_id) }
}

/** Registers the workload routes of one product on its regional router. */
export function workloadRoutes<Doc extends WorkloadDoc, Create extends v.GenericSchema, Update extends v.GenericSchema>(
  api: Hono<AppEnv>,
  spec: WorkloadSpec<Doc, Create, Update>,
): void {
  const { product, collection } = spec
  const path = `/${collection}`

  api.post(path, async (c) => {
    const region = regionOf(c)
    const body = await parseBody(c.req.raw, spec.create)
    const namespace = loadNamespace(c, product, region, (body as { namespace_id: string }).namespace_id)
    requireProduct(c, product, namespace.project_id, product.resource)
    const doc = await spec.build(body, namespace, timestamp(c.var.emulator.now()))
    spec.table(c).insert(doc, { organization_id: namespace.organization_id, project_id: namespace.project_id })
    return c.json(doc)
  })

  api.get(path, (c) => {
    const region = regionOf(c)
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = [eq('region', region), ...readableProjects(c, product, product.resource)]
    const namespaceId = uuidParam(query, 'namespace_id')
    if (namespaceId !== undefined) where.push(eq('namespace_id', namespaceId))
    const name = stringParam(query, 'name')
    if (name !== undefined) where.push(contains('name', name))
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const projectId = uuidParam(query, 'project_id')
    if (projectId !== undefined) where.push(eq('project_id', projectId))
    return c.json(listBody(collection, spec.table(c).list(where, order, page)))
  })

  api.get(`${path}/:id`, (c) => {
    const { doc, namespace } = loadWorkload(c, product, spec.table(c), regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, product.resource)
    return c.json(doc)
  })

  api.patch(`${path}/:id`, async (c) => {
    const { doc, namespace } = loadWorkload(c, product, spec.table(c), regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, product.resource)
    const body = await parseBody(c.req.raw, spec.update)
    const updated = { ...(await spec.apply(doc, body)), updated_at: timestamp(c.var.emulator.now()) }
    spec.table(c).update(updated)
    return c.json(updated)
  })

  api.delete(`${path}/:id`, (c) => {
    const { doc, namespace } = loadWorkload(c, product, spec.table(c), regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, product.resource)
    const { tables, now } = c.var.emulator
    tables.tokens.deleteWhere([eq('resource_id', doc.id)])
    spec.table(c).delete(doc.id)
    return c.json({ ...doc, status: 'deleting', updated_at: timestamp(now()) })
  })

  api.post(`${path}/:id/deploy`, (c) => {
    const { doc, namespace } = loadWorkload(c, product, spec.table(c), regionOf(c), c.req.param('id'))
    requireProduct(c, product, namespace.project_id, product.resource)
    const at = timestamp(c.var.emulator.now())
    spec.table(c).update({ ...doc, status: 'ready', ready_at: at, updated_at: at })
    // The platform answers `pending` while it builds; here the deployment is ready at once.
    return c.json({ ...doc, status: 'pending', updated_at: at })
  })
}
