/**
 * Where the admin API lives, in a module of its own: the edge Worker forwards this
 * prefix to the control plane without importing the admin API.
 */
import { RESERVED_PREFIX } from './keyset/validate-routes.js'

/** The admin API's path prefix; routes may not claim it. */
export const ADMIN_PREFIX = `${RESERVED_PREFIX}/admin/v1`
