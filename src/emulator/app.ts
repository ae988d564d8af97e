/** The emulator's HTTP surface, assembled. */
import { Hono } from 'hono'
import { authenticate } from './auth/principal.js'
import { REGIONS } from './config.js'
import type { AppEnv, Emulator } from './context.js'
import { FaultSettingsSchema, type FaultSwitch } from './faults.js'
import { deniedAuthentication, permissionsDenied, ScalewayError } from './http/errors.js'
import { sha256Hex } from './http/ids.js'
import { parseBody } from './http/validate.js'
import { bulkRoutes } from './bulk.js'
import { apiKeyRoutes } from './iam/api-keys.js'
import { applicationRoutes } from './iam/applications.js'
import { groupRoutes } from './iam/groups.js'
import { permissionSetRoutes } from './iam/permission-sets.js'
import { policyRoutes } from './iam/policies.js'
import { ruleRoutes } from './iam/rules.js'
import { userRoutes } from './iam/users.js'
import { platformRoutes } from './platform/invoke.js'
import { CONTAINERS, FUNCTIONS } from './serverless/common.js'
import { containerRoutes } from './serverless/containers.js'
import { functionRoutes } from './serverless/functions.js'
import { namespaceRoutes } from './serverless/namespaces.js'
import { tokenRoutes } from './serverless/tokens.js'

/**
 * Builds the app over one emulator state.
 * @example
 * const app = createApp(emulator, faults)
 * const res = await app.fetch(new Request('http://emulator/iam/v1alpha1/users', { headers: { 'x-auth-token': secret } }))
 */
export function createApp(emulator: Emulator, faults: FaultSwitch): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.use('*', async (c, next) => {
    c.set('emulator', emulator)
    await next()
  })
  app.use('*', faults.middleware(emulator.config.hangMaxMs))

  // Emulator controls: the admin secret only, not an API key.
  app.use('/emulator/*', async (c, next) => {
    const token = c.req.header('x-auth-token')?.trim()
    if (!token) throw deniedAuthentication('invalid_argument')
    if ((await sha256Hex(token)) !== (await sha256Hex(emulator.adminSecret() ?? ''))) throw permissionsDenied('write', 'emulator')
    await next()
  })
  app.get('/emulator/faults', (c) => c.json(faults.settings))
  app.post('/emulator/faults', async (c) => {
    faults.set(await parseBody(c.req.raw, FaultSettingsSchema))
    return c.json(faults.settings)
  })
  bulkRoutes(app, faults)
  app.get('/emulator/info', (c) =>
    c.json({
      organization_id: emulator.config.organizationId,
      default_project_id: emulator.config.defaultProjectId,
      owner_user_id: emulator.config.ownerUserId,
      admin_access_key: emulator.config.adminAccessKey,
      regions: REGIONS,
      platform: { functions: '/platform/functions/{function_id}/', containers: '/platform/containers/{container_id}/' },
    }),
  )

  // Management APIs: every call authenticated with X-Auth-Token.
  for (const prefix of ['/iam/v1alpha1/*', '/functions/v1beta1/*', '/containers/v1beta1/*']) {
    app.use(prefix, async (c, next) => {
      c.set('principal', await authenticate(emulator.tables, emulator.config, emulator.adminSecret() ?? '', c.req.header('x-auth-token') ?? null, emulator.now()))
      await next()
    })
  }

  const iam = new Hono<AppEnv>()
  apiKeyRoutes(iam)
  applicationRoutes(iam)
  userRoutes(iam)
  groupRoutes(iam)
  policyRoutes(iam)
  ruleRoutes(iam)
  permissionSetRoutes(iam)
  app.route('/iam/v1alpha1', iam)

  const functions = new Hono<AppEnv>()
  namespaceRoutes(functions, FUNCTIONS)
  functionRoutes(functions)
  tokenRoutes(functions, FUNCTIONS)
  app.route('/functions/v1beta1/regions/:region', functions)

  const containers = new Hono<AppEnv>()
  namespaceRoutes(containers, CONTAINERS)
  containerRoutes(containers)
  tokenRoutes(containers, CONTAINERS)
  app.route('/containers/v1beta1/regions/:region', containers)

  platformRoutes(app)

  app.notFound((c) => c.json({ message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, type: 'not_found' }, 404))
  app.onError((error, c) => {
    if (error instanceof ScalewayError) return error.toResponse()
    console.error('emulator: unexpected error', error)
    return c.json({ message: 'internal error', type: 'internal_error' }, 500)
  })
  return app
}
