/** `GET /iam/v1alpha1/permission-sets`: the catalogue, paginated. */
import type { Hono } from 'hono'
import { PERMISSION_SETS } from '../auth/permission-sets.js'
import type { AppEnv } from '../context.js'
import { listBody } from '../context.js'
import { orderBy, pageRequest, uuidParam } from '../http/query.js'
import { requireIam } from './common.js'

const ORDERS = ['name_asc', 'name_desc', 'created_at_asc', 'created_at_desc'] as const

/** Registers the permission-set catalogue on the IAM router. */
export function permissionSetRoutes(iam: Hono<AppEnv>): void {
  iam.get('/permission-sets', (c) => {
    requireIam(c, 'permission_set')
    const query = new URL(c.req.url).searchParams
    const page = pageRequest(query)
    const order = orderBy(query, ORDERS, 'name_asc')
    const organizationId = uuidParam(query, 'organization_id')
    // The catalogue has no creation dates: created_at orders fall back to the catalogue's order.
    const sets = organizationId !== undefined && organizationId !== c.var.emulator.config.organizationId ? [] : [...PERMISSION_SETS]
    if (order === 'name_desc' || order === 'created_at_desc') sets.reverse()
    const start = (page.page - 1) * page.pageSize
    return c.json(listBody('permission_sets', { items: sets.slice(start, start + page.pageSize), total: sets.length }))
  })
}
