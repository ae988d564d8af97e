/**
 * `/{functions,containers}/v1beta1/regions/{region}/namespaces`. A namespace
 * belongs to a Project; its functions or containers inherit it. Deleting one
 * deletes its functions or containers, its tokens and its signing key.
 */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import type { NamespaceDoc } from '../db/docs.js'
import { type Condition, contains, eq } from '../db/table.js'
import { newId, timestamp } from '../http/ids.js'
import { orderBy, orderOf, pageRequest, stringParam, uuidParam } from '../http/query.js'
import { parseBody, tags, uuid } from '../http/validate.js'
import { envVars, hashSecrets, loadNamespace, type Product, randomSuffix, readableProjects, regionOf, requireProduct, SecretSpec, serverlessName } from './common.js'

const ORDERS = ['created_at_asc', 'created_at_desc', 'name_asc', 'name_desc'] as const
const ORDER_COLUMNS = { created_at: 'created_at', name: 'name' }

const CreateNamespace = v.object({
  name: serverlessName,
  environment_variables: v.optional(v.nullable(envVars)),
  project_id: v.optional(uuid),
  description: v.optional(v.nullable(v.string())),
  secret_environment_variables: v.optional(v.nullable(v.array(SecretSpec))),
  tags: v.optional(v.nullable(tags)),
  /** Deprecated in the SDKs ("doesn't matter anymore"); answered back as `vpc_integration_activated` (recorded). */
  activate_vpc_integration: v.optional(v.nullable(v.boolean())),
})
const UpdateNamespace = v.object({
  environment_variables: v.optional(v.nullable(envVars)),
  description: v.optional(v.nullable(v.string())),
  secret_environment_variables: v.optional(v.nullable(v.array(SecretSpec))),
  tags: v.optional(v.nullable(tags)),
})

/** The slug the platform derives from a namespace for registry and domain names. */
export function namespaceSlug(namespace: NamespaceDoc): string {
  return namespace.registry_endpoint.split('/funcscw')[1] ?? namespace.name.replace(/[^a-z0-9]/g, '')
}

/** Registers the namespace routes of one product on its regional router. */
export function namespaceRoutes(api: Hono<AppEnv>, product: Product): void {
  api.post('/namespaces', async (c) => {
    const region = regionOf(c)
    const { tables, config, now } = c.var.emulator
    const body = await parseBody(c.req.raw, CreateNamespace)
    const projectId = body.project_id?.toLowerCase() ?? config.defaultProjectId
    requireProduct(c, product, projectId, 'namespace')
    const at = timestamp(now())
    const slug = `${body.name.replace(/[^a-z0-9]/g, '').slice(0, 20)}${randomSuffix(8)}`
    const doc: NamespaceDoc = {
      id: newId(),
      name: body.name,
      environment_variables: body.environment_variables ?? {},
      organization_id: config.organizationId,
      project_id: projectId,
      status: 'ready',
      registry_namespace_id: newId(),
      error_message: null,
      registry_endpoint: `rg.${region}.scw.cloud/funcscw${slug}`,
      description: body.description ?? '',
      secret_environment_variables: await hashSecrets(body.secret_environment_variables ?? []),
      tags: body.tags ?? [],
      created_at: at,
      updated_at: at,
      vpc_integration_activated: body.activate_vpc_integration ?? false,
      region,
    }
    tables.namespaces.insert(doc, { product: product.key })
    // The platform answers `pending` while it provisions the registry; here it is ready at once.
    return c.json({ ...doc, status: 'pending' })
  })

  api.get('/namespaces', (c) => {
    const region = regionOf(c)
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderOf(orderBy(query, ORDERS, 'created_at_asc'), ORDER_COLUMNS)
    const where: Condition[] = [eq('product', product.key), eq('region', region), ...readableProjects(c, product, 'namespace')]
    const name = stringParam(query, 'name')
    if (name !== undefined) where.push(contains('name', name))
    const organizationId = uuidParam(query, 'organization_id')
    if (organizationId !== undefined) where.push(eq('organization_id', organizationId))
    const projectId = uuidParam(query, 'project_id')
    if (projectId !== undefined) where.push(eq('project_id', projectId))
    return c.json(listBody('namespaces', c.var.emulator.tables.namespaces.list(where, order, page)))
  })

  api.get('/namespaces/:id', (c) => {
    const doc = loadNamespace(c, product, regionOf(c), c.req.param('id'))
    requireProduct(c, product, doc.project_id, 'namespace')
    return c.json(doc)
  })

  api.patch('/namespaces/:id', async (c) => {
    const doc = loadNamespace(c, product, regionOf(c), c.req.param('id'))
    requireProduct(c, product, doc.project_id, 'namespace')
    const body = await parseBody(c.req.raw, UpdateNamespace)
    const updated: NamespaceDoc = {
      ...doc,
      environment_variables: body.environment_variables ?? doc.environment_variables,
      description: body.description ?? doc.description,
      secret_environment_variables: body.secret_environment_variables ? await hashSecrets(body.secret_environment_variables) : doc.secret_environment_variables,
      tags: body.tags ?? doc.tags,
      updated_at: timestamp(c.var.emulator.now()),
    }
    c.var.emulator.tables.namespaces.update(updated)
    return c.json(updated)
  })

  api.delete('/namespaces/:id', (c) => {
    const doc = loadNamespace(c, product, regionOf(c), c.req.param('id'))
    requireProduct(c, product, doc.project_id, 'namespace')
    const { tables, signingKeys, now } = c.var.emulator
    ;(product.key === 'functions' ? tables.functions : tables.containers).deleteWhere([eq('namespace_id', doc.id)])
    tables.tokens.deleteWhere([eq('namespace_id', doc.id)])
    signingKeys.delete(doc.id)
    tables.namespaces.delete(doc.id)
    // The platform answers with the namespace in `deleting`; here it is gone at once.
    return c.json({ ...doc, status: 'deleting', updated_at: timestamp(now()) })
  })
}
