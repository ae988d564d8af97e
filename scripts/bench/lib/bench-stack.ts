/**
 * The request-path benchmark's two workerd processes, started the same way for
 * the benchmark (request-path.ts) and for the profiler (profile.ts):
 *
 * - "infra": the origin stub, the KV service (Workers KV in memory, behind the
 *   `kvNamespace` bindings, seeded with the fixtures' key set) and the JWKS server;
 * - "variants": one Worker (one isolate) and one socket per variant.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleWorkerWithMap } from '../../lib/bundle.js'
import { BENCH_CLIENT_IP_HEADER, CREDENTIAL_ENCRYPTION_KEY, ORIGIN_AUTH_TOKEN, PROJECT, makeFixtures, seedKv, type RequestShape } from '../fixtures.js'
import { renderConfig, startWorkerd, type Binding, type Workerd } from './workerd.js'

/** A variant of the comparison. */
export interface VariantSpec {
  id: string
  /** The letter: a … h. */
  letter: string
  label: string
  /** Bundled module file (in the config directory). */
  module: string
  /** For JWT paths: the naive variant it must beat. */
  naive?: string
  /** Only with `--breakdown`: where the gateway's cost goes. */
  breakdown?: boolean
}

export const ALL_VARIANTS: VariantSpec[] = [
  { id: 'bare', letter: 'a', label: 'bare Hono proxy (baseline)', module: 'bare-proxy.js' },
  { id: 'apikey', letter: 'b', label: 'gateway: IAM API key', module: 'gateway.js' },
  { id: 'hs256', letter: 'c', label: 'gateway: consumer JWT HS256', module: 'gateway.js', naive: 'naive-hs256' },
  { id: 'rs256', letter: 'd', label: 'gateway: consumer JWT RS256', module: 'gateway.js', naive: 'naive-jwk' },
  { id: 'es256', letter: 'e', label: 'gateway: consumer JWT ES256', module: 'gateway.js', naive: 'naive-jwk' },
  { id: 'legacy', letter: 'f', label: 'gateway: legacy serverless JWT', module: 'gateway.js', naive: 'naive-jwk' },
  { id: 'refused', letter: 'g', label: 'gateway: refused (unknown key, 401)', module: 'gateway.js' },
  { id: 'condition', letter: 'i', label: 'gateway: IAM API key, office hours + IP range condition', module: 'gateway.js' },
  { id: 'naive-hs256', letter: 'h1', label: 'naive: hono/jwt HS256, secret from KV', module: 'naive-jwt.js' },
  { id: 'naive-jwk', letter: 'h2', label: 'naive: hono/jwk RS256, jwks_uri', module: 'naive-jwk.js' },
  { id: 'edgeauth-apikey', letter: 'x1', label: 'breakdown: edgeAuth + proxy, API key', module: 'edge-auth-proxy.js', breakdown: true },
  { id: 'nolog-apikey', letter: 'x2', label: 'breakdown: gateway, no access log, API key', module: 'gateway.js', breakdown: true },
  { id: 'nousage-apikey', letter: 'x3', label: 'breakdown: gateway, no usage counting, API key', module: 'gateway.js', breakdown: true },
  { id: 'counted-refused', letter: 'x4', label: 'breakdown: refused, ACCESS_LOG=counted', module: 'gateway.js', breakdown: true },
]

/** A variant by its letter (`b`) or id (`apikey`). */
export function variantByName(name: string): VariantSpec | undefined {
  return ALL_VARIANTS.find((v) => v.letter === name || v.id === name)
}

const moduleEntries: Record<string, string> = {
  'origin.js': 'origin.ts',
  'kv-service.js': 'kv-service.ts',
  'jwks.js': 'jwks.ts',
  'bare-proxy.js': 'bare-proxy.ts',
  'gateway.js': 'gateway.ts',
  'naive-jwt.js': 'naive-jwt.ts',
  'naive-jwk.js': 'naive-jwk.ts',
  'edge-auth-proxy.js': 'edge-auth-proxy.ts',
}

/** Bundles the bench Workers into `dir` (with `sourcemap`: a `<name>.map` beside each, for the profiler). */
export async function bundleBenchWorkers(dir: string, names = Object.keys(moduleEntries), sourcemap = false): Promise<void> {
  for (const name of names) {
    const entry = new URL(`../workers/${moduleEntries[name]}`, import.meta.url).pathname
    const bundle = await bundleWorkerWithMap(entry, { sourcemap })
    writeFileSync(join(dir, name), bundle.code)
    if (bundle.map) writeFileSync(join(dir, `${name}.map`), bundle.map)
  }
}

/** The two running workerd processes and the request each variant sends. */
export interface BenchStack {
  infra: Workerd
  variants: Workerd
  originUrl: string
  /** URL and request shape of a variant. */
  target(id: string): { url: string; shape: RequestShape }
  /** Stops both processes. */
  stop(): Promise<void>
}

/**
 * Bundles the Workers into `dir`, starts "infra" (seeded) and "variants" (the
 * `selected` ones), and checks that every variant answers as expected.
 * @param variantsArgs Extra arguments of the variants' `workerd serve` (e.g. the inspector's address).
 * @param variantsWrap Runs the variants' workerd under another command (e.g. `taskset -c 0`).
 * @throws {Error} when a variant does not answer as expected (so that a broken variant is never timed).
 */
export async function startBenchStack(options: { dir: string; selected: VariantSpec[]; sourcemap?: boolean; variantsArgs?: string[]; variantsWrap?: string[]; infraWrap?: string[] }): Promise<BenchStack> {
  const { dir, selected } = options
  const running: Workerd[] = []
  const stopAll = async () => {
    for (const w of running.reverse()) await w.stop()
  }
  try {
    await bundleBenchWorkers(dir, undefined, options.sourcemap ?? false)
    const infra = await startWorkerd({
      dir,
      name: 'infra',
      sockets: ['origin', 'kv', 'jwks'],
      ...(options.infraWrap ? { wrap: options.infraWrap } : {}),
      config: renderConfig([
        { name: 'origin', module: 'origin.js' },
        { name: 'kv', module: 'kv-service.js' },
        { name: 'jwks', module: 'jwks.js' },
      ]),
    })
    running.push(infra)
    const fixtures = await makeFixtures(infra.url('origin'))
    await seedKv(infra.url('kv'), fixtures.kv)
    const jwksUrl = `${infra.url('jwks')}/.well-known/jwks.json`
    const put = await fetch(jwksUrl, { method: 'PUT', body: JSON.stringify(fixtures.jwks) })
    if (!put.ok) throw new Error(`setting the JWKS: ${put.status}`)

    const originUrl = infra.url('origin')
    const kvAddress = infra.url('kv').replace('http://', '')
    const bindingsFor = (v: VariantSpec): Binding[] => {
      switch (v.module) {
        case 'edge-auth-proxy.js':
          return [{ name: 'KEYSET', kvNamespace: 'kv' }, { name: 'ORIGIN_URL', text: originUrl }, { name: 'PROJECT_ID', text: PROJECT }]
        case 'gateway.js':
          return [
            { name: 'KEYSET', kvNamespace: 'kv' },
            { name: 'ORIGIN_AUTH_TOKEN', text: ORIGIN_AUTH_TOKEN },
            { name: 'CREDENTIAL_ENCRYPTION_KEY', text: CREDENTIAL_ENCRYPTION_KEY },
            // The bench origin is http://127.0.0.1.
            { name: 'ALLOW_INSECURE_LOOPBACK_ORIGINS', text: 'true' },
            ...(v.id === 'nolog-apikey' ? [{ name: 'ACCESS_LOG', text: 'off' }] : []),
            ...(v.id === 'counted-refused' ? [{ name: 'ACCESS_LOG', text: 'counted' }] : []),
            ...(v.id === 'nousage-apikey' ? [{ name: 'USAGE_COUNTING', text: 'off' }] : []),
            ...(v.id === 'condition' ? [{ name: 'CLIENT_IP_HEADER', text: BENCH_CLIENT_IP_HEADER }] : []),
          ]
        case 'naive-jwt.js':
          return [{ name: 'KV', kvNamespace: 'kv' }, { name: 'ORIGIN_URL', text: originUrl }]
        case 'naive-jwk.js':
          return [{ name: 'JWKS_URL', text: jwksUrl }, { name: 'ORIGIN_URL', text: originUrl }]
        default:
          return [{ name: 'ORIGIN_URL', text: originUrl }]
      }
    }
    const variants = await startWorkerd({
      dir,
      name: 'variants',
      sockets: selected.map((v) => v.id),
      ...(options.variantsArgs ? { args: options.variantsArgs } : {}),
      ...(options.variantsWrap ? { wrap: options.variantsWrap } : {}),
      config: renderConfig(
        selected.map((v) => ({ name: v.id, module: v.module, bindings: bindingsFor(v), globalOutbound: 'loopback' })),
        [
          { name: 'loopback', network: { allow: ['127.0.0.1/32'] } },
          { name: 'kv', external: { address: kvAddress } },
        ],
      ),
    })
    running.push(variants)

    // The breakdown variants send the API key of (b): x2 on the gateway's route, x1 to its own app (no route table).
    const shapes: Record<string, RequestShape> = {
      ...fixtures.requests,
      'nolog-apikey': fixtures.requests.apikey!,
      'nousage-apikey': fixtures.requests.apikey!,
      'counted-refused': fixtures.requests.refused!,
      'edgeauth-apikey': { ...fixtures.requests.apikey!, path: '/fn/hello' },
    }
    const target = (id: string) => {
      const shape = shapes[id]!
      return { url: `${variants.url(id)}${shape.path}`, shape }
    }
    for (const v of selected) await check(target(v.id).url, target(v.id).shape, `variant ${v.letter} (${v.id})`)
    return { infra, variants, originUrl, target, stop: stopAll }
  } catch (error) {
    await stopAll()
    throw error
  }
}

async function check(url: string, shape: RequestShape, what: string): Promise<void> {
  const res = await fetch(url, { headers: shape.headers })
  const body = await res.text()
  if (res.status !== shape.expectStatus) throw new Error(`${what}: expected ${shape.expectStatus}, got ${res.status}: ${body.slice(0, 300)}`)
}
