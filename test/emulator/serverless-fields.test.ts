/**
 * Every serverless field the SDKs send is stored and answered, or refused:
 * containers' `health_check`, `scaling_option` and `private_network_id`,
 * functions' `private_network_id`, namespaces' `activate_vpc_integration`, and
 * the placeholders the Go SDK sends in every PATCH. Expected answers are the
 * live API's, as recorded by the Terraform provider's test suite.
 */
import { describe, expect, it } from 'vitest'
import { call, CT, FN, ok, unique } from './support.js'

interface Container {
  id: string
  min_scale: number
  max_concurrency: number
  timeout: string
  health_check: Record<string, unknown>
  scaling_option: Record<string, unknown>
  private_network_id: string | null
}
interface Fn {
  id: string
  runtime: string
  privacy: string
  http_option: string
  sandbox: string
  timeout: string
  private_network_id: string | null
}
interface Refusal {
  type: string
  details: { argument_name: string; reason: string }[]
}

async function namespace(base: string, extra: Record<string, unknown> = {}): Promise<{ id: string; vpc_integration_activated: boolean }> {
  return ok('POST', `${base}/namespaces`, { body: { name: unique('ns'), ...extra } })
}

async function container(extra: Record<string, unknown> = {}): Promise<Container> {
  const ns = await namespace(CT)
  return ok('POST', `${CT}/containers`, { body: { name: 'api', namespace_id: ns.id, ...extra } })
}

describe('container health checks', () => {
  it('answers the recorded default, a TCP probe every 10s with 30 failures allowed', async () => {
    const created = await container()
    expect(created.health_check).toEqual({ failure_threshold: 30, interval: '10s', tcp: {} })
  })

  it('stores an HTTP probe as sent, in the platform’s field order, and a PATCH replaces the probe', async () => {
    const created = await container({ health_check: { http: { path: '/ping' }, failure_threshold: 40, interval: '5s' } })
    expect(created.health_check).toEqual({ failure_threshold: 40, interval: '5s', http: { path: '/ping' } })
    expect(Object.keys(created.health_check)).toEqual(['failure_threshold', 'interval', 'http'])
    expect((await ok<Container>('GET', `${CT}/containers/${created.id}`)).health_check).toEqual(created.health_check)

    // As the Go SDK sends it (recorded): the interval in nanosecond precision, answered as "12s".
    const patched = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, {
      body: { privacy: 'unknown_privacy', protocol: 'unknown_protocol', secret_environment_variables: null, http_option: 'unknown_http_option', sandbox: 'unknown_sandbox', health_check: { http: { path: '/test' }, failure_threshold: 40, interval: '12.000000000s' } },
    })
    expect(patched.health_check).toEqual({ failure_threshold: 40, interval: '12s', http: { path: '/test' } })
    const tcp = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, { body: { health_check: { tcp: {}, failure_threshold: 3, interval: '1.5s' } } })
    expect(tcp.health_check).toEqual({ failure_threshold: 3, interval: '1.500s', tcp: {} })
    expect((await ok<Container>('GET', `${CT}/containers/${created.id}`)).health_check).toEqual(tcp.health_check)
  })

  it('keeps the health check when a PATCH does not name it', async () => {
    const created = await container({ health_check: { http: { path: '/up' }, failure_threshold: 10, interval: '30s' } })
    const patched = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, { body: { description: 'x' } })
    expect(patched.health_check).toEqual(created.health_check)
  })

  it.each([
    ['both probes', { http: { path: '/' }, tcp: {}, failure_threshold: 30, interval: '10s' }, 'health_check'],
    ['no probe', { failure_threshold: 30, interval: '10s' }, 'health_check'],
    ['a failure threshold of 2', { tcp: {}, failure_threshold: 2, interval: '10s' }, 'health_check.failure_threshold'],
    ['a failure threshold of 51', { tcp: {}, failure_threshold: 51, interval: '10s' }, 'health_check.failure_threshold'],
    ['no failure threshold', { tcp: {}, interval: '10s' }, 'health_check.failure_threshold'],
    ['an empty HTTP path', { http: { path: '' }, failure_threshold: 30, interval: '10s' }, 'health_check.http.path'],
    ['an HTTP path of 101 characters', { http: { path: `/${'a'.repeat(100)}` }, failure_threshold: 30, interval: '10s' }, 'health_check.http.path'],
    ['an interval that is not a duration', { tcp: {}, failure_threshold: 30, interval: '10' }, 'health_check.interval'],
    ['an interval of zero', { tcp: {}, failure_threshold: 30, interval: '0s' }, 'health_check.interval'],
  ])('refuses a health check with %s', async (_case, healthCheck, argument) => {
    const ns = await namespace(CT)
    const res = await call<Refusal>('POST', `${CT}/containers`, { body: { name: 'api', namespace_id: ns.id, health_check: healthCheck } })
    expect(res.status).toBe(400)
    expect(res.body.type).toBe('invalid_arguments')
    expect(res.body.details.map((d) => d.argument_name)).toContain(argument)
  })
})

describe('container scaling options', () => {
  it.each([
    ['concurrent requests', { concurrent_requests_threshold: 15 }, 0],
    ['CPU usage', { cpu_usage_threshold: 72 }, 1],
    ['memory usage', { memory_usage_threshold: 66 }, 1],
  ])('stores a %s threshold and leaves max_concurrency alone', async (_case, scalingOption, minScale) => {
    const created = await container({ scaling_option: scalingOption, min_scale: minScale })
    expect(created.scaling_option).toEqual(scalingOption)
    expect(created.max_concurrency).toBe(50)
    expect((await ok<Container>('GET', `${CT}/containers/${created.id}`)).scaling_option).toEqual(scalingOption)
  })

  it('switches the rule with a PATCH, and a PATCH of max_concurrency moves a concurrency threshold (recorded)', async () => {
    const created = await container()
    expect(created.scaling_option).toEqual({ concurrent_requests_threshold: 50 })
    const moved = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, { body: { max_concurrency: 80 } })
    expect(moved).toMatchObject({ max_concurrency: 80, scaling_option: { concurrent_requests_threshold: 80 } })
    const cpu = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, { body: { min_scale: 1, scaling_option: { cpu_usage_threshold: 72 } } })
    expect(cpu).toMatchObject({ min_scale: 1, max_concurrency: 80, scaling_option: { cpu_usage_threshold: 72 } })
    const memory = await ok<Container>('PATCH', `${CT}/containers/${created.id}`, { body: { scaling_option: { memory_usage_threshold: 66 } } })
    expect(memory.scaling_option).toEqual({ memory_usage_threshold: 66 })
    expect((await ok<Container>('GET', `${CT}/containers/${created.id}`)).scaling_option).toEqual({ memory_usage_threshold: 66 })
  })

  it.each([
    ['two rules', { concurrent_requests_threshold: 10, cpu_usage_threshold: 50 }, 1, 'scaling_option'],
    ['no rule', {}, 1, 'scaling_option'],
    ['a concurrency threshold of 0', { concurrent_requests_threshold: 0 }, 0, 'scaling_option.concurrent_requests_threshold'],
    ['a concurrency threshold of 81', { concurrent_requests_threshold: 81 }, 0, 'scaling_option.concurrent_requests_threshold'],
    ['a CPU threshold of 101', { cpu_usage_threshold: 101 }, 1, 'scaling_option.cpu_usage_threshold'],
    ['a memory threshold of 0', { memory_usage_threshold: 0 }, 1, 'scaling_option.memory_usage_threshold'],
    ['a CPU threshold and min_scale 0', { cpu_usage_threshold: 50 }, 0, 'min_scale'],
    ['a memory threshold and min_scale 0', { memory_usage_threshold: 50 }, 0, 'min_scale'],
  ])('refuses a scaling option with %s', async (_case, scalingOption, minScale, argument) => {
    const ns = await namespace(CT)
    const res = await call<Refusal>('POST', `${CT}/containers`, { body: { name: 'api', namespace_id: ns.id, min_scale: minScale, scaling_option: scalingOption } })
    expect(res.status).toBe(400)
    expect(res.body.type).toBe('invalid_arguments')
    expect(res.body.details.map((d) => d.argument_name)).toContain(argument)
  })

  it('refuses a PATCH that would leave a CPU rule with min_scale 0, and changes nothing', async () => {
    const created = await container({ min_scale: 1, scaling_option: { cpu_usage_threshold: 60 } })
    const res = await call<Refusal>('PATCH', `${CT}/containers/${created.id}`, { body: { min_scale: 0 } })
    expect(res.status).toBe(400)
    expect(res.body.details.map((d) => d.argument_name)).toContain('min_scale')
    expect(await ok<Container>('GET', `${CT}/containers/${created.id}`)).toMatchObject({ min_scale: 1, scaling_option: { cpu_usage_threshold: 60 } })
  })
})

describe.each([
  ['functions', FN, 'functions', { runtime: 'node22' }],
  ['containers', CT, 'containers', {}],
] as const)('%s: private networks', (_product, base, collection, required) => {
  it('stores private_network_id, changes it, keeps it when not named, and detaches it with ""', async () => {
    const ns = await namespace(base)
    const network = crypto.randomUUID()
    const created = await ok<Fn>('POST', `${base}/${collection}`, { body: { name: 'pn', namespace_id: ns.id, ...required, private_network_id: network } })
    expect(created.private_network_id).toBe(network)
    expect((await ok<Fn>('GET', `${base}/${collection}/${created.id}`)).private_network_id).toBe(network)
    const other = crypto.randomUUID()
    expect((await ok<Fn>('PATCH', `${base}/${collection}/${created.id}`, { body: { private_network_id: other } })).private_network_id).toBe(other)
    expect((await ok<Fn>('PATCH', `${base}/${collection}/${created.id}`, { body: { description: 'kept' } })).private_network_id).toBe(other)
    expect((await ok<Fn>('PATCH', `${base}/${collection}/${created.id}`, { body: { private_network_id: '' } })).private_network_id).toBeNull()
    expect((await ok<Fn>('GET', `${base}/${collection}/${created.id}`)).private_network_id).toBeNull()
  })

  it('creates without a private network when private_network_id is "" or absent', async () => {
    const ns = await namespace(base)
    for (const extra of [{ private_network_id: '' }, {}]) {
      const created = await ok<Fn>('POST', `${base}/${collection}`, { body: { name: unique('pn'), namespace_id: ns.id, ...required, ...extra } })
      expect(created.private_network_id).toBeNull()
    }
  })

  it('refuses a private_network_id that is not a UUID', async () => {
    const ns = await namespace(base)
    const res = await call<Refusal>('POST', `${base}/${collection}`, { body: { name: 'pn', namespace_id: ns.id, ...required, private_network_id: 'pn-1' } })
    expect(res.status).toBe(400)
    expect(res.body.details.map((d) => d.argument_name)).toContain('private_network_id')
  })
})

describe.each([
  ['functions', FN],
  ['containers', CT],
] as const)('%s namespaces: activate_vpc_integration', (_product, base) => {
  it.each([
    [true, true],
    [false, false],
    [undefined, false],
  ])('activate_vpc_integration %s → vpc_integration_activated %s, also on read', async (activate, activated) => {
    const ns = await namespace(base, activate === undefined ? {} : { activate_vpc_integration: activate })
    expect(ns.vpc_integration_activated).toBe(activated)
    expect((await ok<{ vpc_integration_activated: boolean }>('GET', `${base}/namespaces/${ns.id}`)).vpc_integration_activated).toBe(activated)
  })

  it('refuses an activate_vpc_integration that is not a boolean', async () => {
    const res = await call<Refusal>('POST', `${base}/namespaces`, { body: { name: unique('ns'), activate_vpc_integration: 'yes' } })
    expect(res.status).toBe(400)
    expect(res.body.details.map((d) => d.argument_name)).toContain('activate_vpc_integration')
  })
})

describe('what the Go SDK sends in a PATCH', () => {
  it('takes unknown_* enum values as "unchanged" for a function, runtime included (recorded)', async () => {
    const ns = await namespace(FN)
    const created = await ok<Fn>('POST', `${FN}/functions`, { body: { name: 'go', namespace_id: ns.id, runtime: 'go126', privacy: 'private', http_option: 'redirected', sandbox: 'v1' } })
    const patched = await ok<Fn>('PATCH', `${FN}/functions/${created.id}`, {
      body: { runtime: 'unknown_runtime', privacy: 'unknown_privacy', secret_environment_variables: null, http_option: 'unknown_http_option', sandbox: 'unknown_sandbox', private_network_id: '' },
    })
    expect(patched).toMatchObject({ runtime: 'go126', privacy: 'private', http_option: 'redirected', sandbox: 'v1', private_network_id: null })
  })

  it.each([
    ['300.000000000s', '300s'],
    ['60s', '60s'],
    ['0.250000000s', '0.250s'],
  ])('answers a timeout of %s as %s', async (sent, answered) => {
    const created = await container({ timeout: sent })
    expect(created.timeout).toBe(answered)
    const ns = await namespace(FN)
    const fn = await ok<Fn>('POST', `${FN}/functions`, { body: { name: 'to', namespace_id: ns.id, runtime: 'node22', timeout: sent } })
    expect(fn.timeout).toBe(answered)
  })
})
