/**
 * The calls `npm start` prints: built from the real URLs, secrets and routes;
 * each status is what the gateway's own rules give for the fixture (its grant
 * check for keys, the legacy token's namespace), never typed in.
 */
import { anyGrantAllows } from '../../src/authz/grants.js'
import type { Route } from '../../src/keyset/schema.js'
import type { LocalStackFixture } from './fixture.js'
import type { StackSecrets } from './secrets.js'

/** One call a user can paste into another terminal, and the status it gets. */
export interface CurlLine {
  /** What the call shows. */
  title: string
  /** The HTTP status the call gets. */
  status: number
  /** A shell command that works as printed. */
  command: string
}

/** What the lines are built from. */
export interface CurlInputs {
  fixture: LocalStackFixture
  /** The routes as seeded (targets on the emulator's platform endpoints). */
  routes: readonly Route[]
  gatewayUrl: string
  emulatorUrl: string
  /** The gateway's admin API prefix, e.g. `/__edgegw/admin/v1`. */
  adminPrefix: string
  secrets: StackSecrets
  fullAccessAllowsInvoke: boolean
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

/** `curl -sS -i [-H 'X-Auth-Token: …'] 'url'`. */
export function curlCommand(url: string, token?: string): string {
  return ['curl -sS -i', ...(token ? ['-H', shellQuote(`X-Auth-Token: ${token}`)] : []), shellQuote(url)].join(' ')
}

/**
 * The line that points `edgegw` (docs/cli.md) at the stack from another terminal:
 * the gateway's URL and its `ADMIN_TOKEN` (base64url: nothing to quote), quoted for
 * the shell only if they need it.
 */
export function edgegwExportLine(gatewayUrl: string, adminToken: string): string {
  const word = (value: string) => (/^[A-Za-z0-9_.:/@%+=,-]+$/.test(value) ? value : shellQuote(value))
  return `export EDGEGW_URL=${word(gatewayUrl)} EDGEGW_ADMIN_TOKEN=${word(adminToken)}`
}

/**
 * The lines, in the order printed: the demo key on every route, the legacy token,
 * no credential, the key without a grant, a private workload called directly on
 * the emulator, one emulator API call and the gateway's admin status.
 *
 * @throws {Error} when a key the lines need was not seeded.
 */
export function buildCurlLines(inputs: CurlInputs): CurlLine[] {
  const { fixture, routes, secrets } = inputs
  const demo = secrets.apiKeys.demo
  const noGrant = secrets.apiKeys.noGrant
  if (!demo || !noGrant) throw new Error('buildCurlLines: the demo keys were not seeded')
  const keyStatus = (role: 'demo' | 'noGrant', route: Route): number =>
    anyGrantAllows(fixture.applications[role].grants, { target: route.target, organizationId: fixture.organizationId, fullAccessAllowsInvoke: inputs.fullAccessAllowsInvoke }) ? 200 : 403
  const at = (route: Route) => `${inputs.gatewayUrl}${route.paths[0]}`
  const first = routes[0]!

  const lines: CurlLine[] = routes.map((route) => ({
    title: `IAM key ${demo.accessKey} (${fixture.applications.demo.name}) calls the private ${route.target.kind} "${route.target.resourceName}" behind ${route.paths[0]}`,
    status: keyStatus('demo', route),
    command: curlCommand(at(route), demo.secretKey),
  }))
  const token = secrets.legacyToken
  // A namespace token covers the routes whose target is in its namespace.
  const legacyRoute = token && routes.find((route) => route.target.namespaceId === token.namespaceId)
  if (token && legacyRoute) {
    lines.push({ title: `legacy ${fixture.legacyToken.product} token ${token.id} (the whole namespace) on ${legacyRoute.paths[0]}`, status: 200, command: curlCommand(at(legacyRoute), token.token) })
  }
  lines.push(
    { title: `no credential on ${first.paths[0]}`, status: 401, command: curlCommand(at(first)) },
    { title: `IAM key ${noGrant.accessKey} (${fixture.applications.noGrant.name}, no grant) on ${first.paths[0]}`, status: keyStatus('noGrant', first), command: curlCommand(at(first), noGrant.secretKey) },
  )
  const direct = routes.find((route) => route.target.privacy === 'private')
  if (direct) {
    lines.push({ title: `the private ${direct.target.kind} "${direct.target.resourceName}" called directly on the emulator, without credential`, status: 403, command: curlCommand(direct.target.url) })
  }
  lines.push(
    {
      title: "the emulator's IAM API, as the organisation owner (admin secret): list API keys",
      status: 200,
      command: curlCommand(`${inputs.emulatorUrl}/iam/v1alpha1/api-keys?organization_id=${fixture.organizationId}`, secrets.emulatorAdminSecret),
    },
    { title: "the gateway's admin API (ADMIN_TOKEN): key set and sync status", status: 200, command: curlCommand(`${inputs.gatewayUrl}${inputs.adminPrefix}/status`, secrets.adminToken) },
  )
  return lines
}
