/**
 * The rehearsal of issue 12 on the local stack: 20 legacy tokens of mixed reach
 * (namespaces and single functions, two projects), a client loop calling with
 * each; `edgegw migrate plan`, `apply` (re-run after a simulated crash), `verify`;
 * the clients switch to their new keys; a brownout rehearsed, the sunset, `finish`.
 * The brownout and sunset are near-future instants (seconds) of a real schedule.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Plan } from '../../src/cli/lib/migration-plan.js'
import { edgegw } from './cli-support.js'
import { runClients, startRecordingOrigin, type RecordingOrigin, type RehearsalClient } from './migration-support.js'
import { pollUntil, startTestStack, type TestStack } from './support.js'

let t: TestStack
let origin: RecordingOrigin
let dir: string
/** The Workers' console lines, kept to explain a failed request. */
const workerLog: [number, string, string, string][] = []

const FN = '/functions/v1beta1/regions/fr-par'
const IAM = '/iam/v1alpha1'
const INTERVAL_MS = 250
const DENIED_CHALLENGE = 'Bearer realm="edge-auth-gateway", error="insufficient_scope", error_description="The credential does not allow this call.", scope="FunctionsPrivateAccess"'

beforeAll(async () => {
  t = await startTestStack({ memoryTtlSeconds: 1, onWorkerLog: (worker, line) => void workerLog.push([Date.now(), worker, line.level, line.message.slice(0, 400)]) })
  origin = await startRecordingOrigin(t.stack.emulatorUrl)
  dir = await mkdtemp(join(tmpdir(), 'edgegw-migration-'))
})
afterAll(async () => {
  await t?.cleanup()
  await origin?.close()
  await rm(dir, { recursive: true, force: true })
})

/** Namespaces a, b (project 1) and c, d (project 2), with their functions; a route /m/<fn> to each, through the recording origin. */
async function buildEstate(project2: string) {
  const project1 = t.stack.fixture.projectId
  // The gateway's origin credential may invoke project 2 too, as an operator would grant it.
  await t.emulator.call('POST', `${IAM}/policies`, {
    name: 'origin-project-2',
    organization_id: t.stack.fixture.organizationId,
    application_id: t.stack.secrets.applications.origin,
    rules: [{ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [project2] }],
  })
  const layout = { a: [project1, ['a1', 'a2']], b: [project1, ['b1']], c: [project2, ['c1', 'c2']], d: [project2, ['d1']] } as const
  const namespaces: Record<string, string> = {}
  const functions: Record<string, string> = {}
  for (const [ns, [project, fns]] of Object.entries(layout)) {
    namespaces[ns] = (await t.emulator.call<{ id: string }>('POST', `${FN}/namespaces`, { name: `mig-${ns}`, project_id: project })).id
    for (const fn of fns) {
      functions[fn] = (await t.emulator.call<{ id: string }>('POST', `${FN}/functions`, { name: `fn-${fn}`, namespace_id: namespaces[ns], runtime: 'node22', privacy: 'private' })).id
      await t.emulator.call('POST', `${FN}/functions/${functions[fn]}/deploy`, {})
    }
  }
  const routes = []
  for (const [fn, id] of Object.entries(functions)) {
    const { data } = await t.admin.call<{ data: { target: { url: string } }[] }>('GET', `/resources?kind=function&id=${id}`)
    const target = data[0]!.target
    routes.push({ id: `m-${fn}`, paths: [`/m/${fn}`], target: { ...target, url: `${origin.url}${new URL(target.url).pathname}` } })
  }
  for (const route of routes) await t.admin.call('POST', '/routes', route)
  return { namespaces, functions }
}

/** Runs the CLI with the admin token and the Scaleway settings of the stack (the gateway's own key). */
const cli = (args: string[]) =>
  edgegw(t.stack, args, {
    env: {
      SCW_SECRET_KEY: t.stack.secrets.apiKeys.gateway!.secretKey,
      SCW_API_URL: t.stack.emulatorUrl,
      SCW_DEFAULT_ORGANIZATION_ID: t.stack.fixture.organizationId,
      SCW_DEFAULT_REGION: 'fr-par',
    },
  })
async function cliJson<T>(args: string[], expectedCode = 0): Promise<T> {
  const run = await cli([...args, '--json'])
  if (run.code !== expectedCode) throw new Error(`edgegw ${args.join(' ')} exited ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout) as T
}
const legacyApplications = async () => (await t.emulator.call<{ applications: { id: string; name: string }[] }>('GET', `${IAM}/applications?page_size=100`)).applications.filter((a) => a.name.startsWith('legacy-'))

describe('the migration from legacy tokens to IAM keys, rehearsed on the local stack', () => {
  it('keeps every client working: plan, apply (twice), verify, switch, brownout, sunset, finish', { timeout: 150_000 }, async () => {
    const started = Date.now()
    let summary: unknown
    const events: [string, number][] = []
    const mark = (what: string) => events.push([what, Date.now() - started])
    const { namespaces, functions } = await buildEstate(randomUUID())
    // 20 tokens: [reach, paths its clients call, neighbour paths it must never reach].
    const reach: [string, string, string[], string[]][] = [
      ...Array.from({ length: 4 }, (_, i) => ['namespace', namespaces.a!, [i % 2 ? '/m/a2' : '/m/a1'], ['/m/b1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 3 }, () => ['function', functions.a1!, ['/m/a1'], ['/m/a2', '/m/b1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 2 }, () => ['function', functions.a2!, ['/m/a2'], ['/m/a1', '/m/b1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 3 }, () => ['namespace', namespaces.b!, ['/m/b1'], ['/m/a1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 3 }, (_, i) => ['namespace', namespaces.c!, [i % 2 ? '/m/c2' : '/m/c1'], ['/m/d1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 3 }, () => ['function', functions.c1!, ['/m/c1'], ['/m/c2', '/m/d1']] as [string, string, string[], string[]]),
      ...Array.from({ length: 2 }, () => ['function', functions.c2!, ['/m/c2'], ['/m/c1', '/m/d1']] as [string, string, string[], string[]]),
    ]
    const clients: RehearsalClient[] = []
    const neighbours = new Map<number, string[]>()
    for (const [index, [kind, id, [path], refused]] of reach.entries()) {
      const minted = await t.admin.call<{ id: string; token: string }>('POST', '/legacy-tokens', { product: 'functions', ...(kind === 'namespace' ? { namespace_id: id } : { function_id: id }), description: `rehearsal client ${index}` })
      clients.push({ index, tokenId: minted.id, token: minted.token, path: path!, userAgent: index % 5 === 0 ? `GitHub-Actions/2.3 client-${index}` : `billing-batch/1.${index}`, calls: [] })
      neighbours.set(index, refused)
    }
    expect(clients).toHaveLength(20)

    // The clients call with their legacy tokens.
    mark('clients start')
    const loop = runClients(t.stack.gatewayUrl, clients, INTERVAL_MS)
    try {
      await pollUntil(async () => clients.every((c) => c.calls.filter((x) => x.status === 200).length >= 2), Boolean, { timeoutMs: 20_000, intervalMs: 200 })

      // usage names the namespace each token was used in, its routes and user agents: enough to find its owner.
      const used = await cliJson<{ credentials: { credential_id: string; namespace_id: string | null; routes: { route: string }[]; user_agents: string[] }[] }>(['usage', '--kind', 'legacy-jwt', '--since', '1d'])
      const byToken = new Map(used.credentials.map((c) => [c.credential_id, c]))
      for (const client of clients) {
        expect(byToken.get(client.tokenId)).toMatchObject({ namespace_id: namespaces[client.path.slice(3, 4)], routes: [{ route: `m-${client.path.slice(3)}` }], user_agents: [client.userAgent] })
      }

      // plan: 7 scopes, 20 tokens; the stack's own seeded token, never used, is idle.
      mark('plan')
      const planFile = join(dir, 'plan.json')
      const secretsDir = join(dir, 'secrets')
      const planned = await cliJson<{ plan: Plan }>(['migrate', 'plan', '--out', planFile, '--idle-since', new Date(started).toISOString()])
      expect(planned.plan.groups).toHaveLength(7)
      expect(planned.plan.groups.flatMap((g) => g.tokens.map((x) => x.token_id)).sort()).toEqual(clients.map((c) => c.tokenId).sort())
      expect(planned.plan.idle).toEqual([expect.objectContaining({ token_id: t.stack.secrets.legacyToken!.id, reason: 'idle' })])
      expect(planned.plan.groups.flatMap((g) => g.tokens).filter((x) => x.key_kind === 'ci')).toHaveLength(4)
      const projects = new Set(planned.plan.groups.map((g) => g.scope.project_id))
      expect(projects.size).toBe(2)

      // apply without --yes: a dry run that creates nothing.
      const dry = await cliJson<{ dry_run: boolean; steps: { action: string; what: string }[] }>(['migrate', 'apply', planFile, '--secrets-dir', secretsDir])
      expect(dry.dry_run).toBe(true)
      expect(dry.steps.filter((s) => s.action === 'create')).toHaveLength(7 + 7 + 20)
      expect(await legacyApplications()).toEqual([])

      mark('apply')
      const applied = await cliJson<{ steps: { action: string; what: string }[] }>(['migrate', 'apply', planFile, '--secrets-dir', secretsDir, '--yes'])
      const count = (steps: { action: string; what: string }[], action: string, what: string) => steps.filter((s) => s.action === action && s.what === what).length
      expect([count(applied.steps, 'create', 'application'), count(applied.steps, 'create', 'policy'), count(applied.steps, 'create', 'key')]).toEqual([7, 7, 20])
      const plan = JSON.parse(await readFile(planFile, 'utf8')) as Plan
      for (const token of plan.groups.flatMap((g) => g.tokens)) {
        expect((await stat(token.key!.secret_file)).mode & 0o777).toBe(0o600)
        expect(await readFile(token.key!.secret_file, 'utf8')).toMatch(/^# Send the secret key in the X-Auth-Token header/m)
      }

      // A crash after IAM answered, before the plan recorded it: the plan forgets group 0's ids and one key
      // whose file was written; the key of another token lost its file (minted, secret never saved).
      const crashed = structuredClone(plan)
      crashed.groups[0]!.application.id = null
      crashed.groups[0]!.policy.id = null
      crashed.groups[0]!.tokens[0]!.key = null
      const orphan = crashed.groups[1]!.tokens[0]!
      await rm(orphan.key!.secret_file)
      const orphanKey = orphan.key!.access_key
      orphan.key = null
      await writeFile(planFile, JSON.stringify(crashed))
      mark('apply again')
      const again = await cliJson<{ steps: { action: string; what: string; id: string | null }[] }>(['migrate', 'apply', planFile, '--secrets-dir', secretsDir, '--yes'])
      expect(again.steps.filter((s) => s.action === 'found').map((s) => s.what)).toEqual(['application', 'policy', 'key'])
      expect(again.steps.filter((s) => s.action === 'create')).toEqual([{ action: 'create', what: 'key', name: expect.any(String), id: expect.stringMatching(/^SCW/) }])
      expect(again.steps.filter((s) => s.action === 'replace-orphan').map((s) => s.id)).toEqual([orphanKey])
      expect(await legacyApplications()).toHaveLength(7)
      const final = JSON.parse(await readFile(planFile, 'utf8')) as Plan
      expect(final.groups[0]!.application.id).toBe(plan.groups[0]!.application.id)
      expect(final.groups[0]!.tokens[0]!.key).toEqual(plan.groups[0]!.tokens[0]!.key)
      expect((await t.emulator.send('GET', `${IAM}/api-keys/${orphanKey}`)).status).toBe(404)

      // verify: every key passes where its token did, and is refused on its neighbours.
      mark('verify')
      const verified = await cliJson<{ ok: boolean; results: { expect: string; ok: boolean; code: string | null }[] }>(['migrate', 'verify', planFile])
      expect(verified.ok).toBe(true)
      expect(verified.results.filter((r) => r.expect === 'refused').every((r) => r.code === 'permission_denied')).toBe(true)

      mark('switch')
      // The clients switch to their new keys.
      const keyOf = new Map(final.groups.flatMap((g) => g.tokens).map((x) => [x.token_id, x.key!.secret_file]))
      for (const client of clients) client.key = /^SECRET_KEY=(\S+)$/m.exec(await readFile(keyOf.get(client.tokenId)!, 'utf8'))![1]
      await pollUntil(async () => clients.every((c) => c.calls.filter((x) => x.credential === 'key' && x.status === 200).length >= 3), Boolean, { timeoutMs: 20_000, intervalMs: 200 })

      mark('neighbours')
      // Every new key is refused on a namespace (or function) its token could not reach, and the origin never sees the call.
      const refusals: number[] = []
      const accessKeyOf = new Map(final.groups.flatMap((g) => g.tokens).map((x) => [x.token_id, x.key!.access_key]))
      for (const client of clients) {
        // The origin does see this key's calls where it is allowed: the record below can tell.
        expect(origin.reached.get(`/platform/functions/${functions[client.path.slice(3)]} ${accessKeyOf.get(client.tokenId)}`)).toBeGreaterThan(0)
        for (const path of neighbours.get(client.index)!) {
          const upstream = `/platform/functions/${functions[path.slice(3)]} ${accessKeyOf.get(client.tokenId)}`
          const res = await fetch(`${t.stack.gatewayUrl}${path}`, { headers: { 'x-auth-token': client.key! } })
          const body = (await res.json()) as { code?: string }
          expect([res.status, body.code, res.headers.get('www-authenticate')]).toEqual([403, 'permission_denied', DENIED_CHALLENGE])
          expect(origin.reached.get(upstream) ?? 0).toBe(0)
          refusals.push(res.status)
        }
      }

      // The schedule: deprecated now, creation closed, a brownout in a few seconds, the sunset a few seconds after.
      const prober = clients[0]!
      const probe: RehearsalClient = { ...prober, index: 99, key: undefined, userAgent: 'late-migrator/0.1', calls: [] }
      const probeLoop = runClients(t.stack.gatewayUrl, [probe], 100)
      const t0 = Date.now()
      const window = { start: t0 + 6_000, end: t0 + 10_000 }
      const sunset = t0 + 14_000
      const iso = (ms: number) => new Date(ms).toISOString()
      mark('schedule')
      await cliJson(['migrate', 'schedule', '--deprecate-at', iso(t0), '--creation-cutoff-at', iso(t0), '--brownout', `${iso(window.start)}/${iso(window.end)}`, '--sunset-at', iso(sunset)])
      const scheduledAt = Date.now()
      // Sent without a body: the gateway refuses before reading one, and an unread request body made workerd drop
      // that keep-alive connection, which undici then handed to a client of this process (UND_ERR_SOCKET). See the report.
      const closed = await t.admin.send<{ code: string }>('POST', '/legacy-tokens')
      expect([closed.status, closed.body.code]).toEqual([403, 'legacy_creation_closed'])
      mark('status')
      const status = await cliJson<{ generated_at: string; next_brownout: unknown; brownout_now: unknown; legacy_creation_open: boolean; last_day: { legacy_tokens_used: number } }>(['migrate', 'status'])
      const brownout = { start: iso(window.start), end: iso(window.end) }
      expect(Date.parse(status.generated_at) < window.start ? status.next_brownout : status.brownout_now).toEqual(brownout)
      expect(status.legacy_creation_open).toBe(false)
      expect(status.last_day.legacy_tokens_used).toBe(20)

      await new Promise((resolve) => setTimeout(resolve, sunset + 1_500 - Date.now()))
      await probeLoop.stop()
      const margin = 400
      const between = (from: number, to: number) => probe.calls.filter((c) => c.sentAt > from + margin && c.receivedAt < to - margin)
      // The memory TTL (1 s) after the schedule's sync, the legacy token still works until the window.
      const beforeWindow = between(scheduledAt + 1_000, window.start)
      const inside = between(window.start, window.end)
      const afterWindow = between(window.end, sunset)
      const afterSunset = probe.calls.filter((c) => c.sentAt > sunset + margin)
      expect(beforeWindow.length).toBeGreaterThan(0)
      expect(beforeWindow.map((c) => c.status)).toEqual(beforeWindow.map(() => 200))
      expect(inside.length).toBeGreaterThan(5)
      expect(inside.map((c) => [c.status, c.code])).toEqual(inside.map(() => [401, 'legacy_token_brownout']))
      expect(afterWindow.length).toBeGreaterThan(5)
      expect(afterWindow.map((c) => c.status)).toEqual(afterWindow.map(() => 200))
      expect(afterSunset.length).toBeGreaterThan(3)
      expect(afterSunset.map((c) => [c.status, c.code])).toEqual(afterSunset.map(() => [401, 'legacy_token_sunset']))

      // finish: the token the late migrator used after the brownout is refused unless forced; after the sunset none is in use.
      mark('finish early')
      const early = await cli(['migrate', 'finish', '--unused-since', iso(window.end), '--plan', planFile, '--json'])
      expect(early.code).toBe(1)
      expect(early.stderr).toMatch(/^edgegw: tokens_in_use: 1 legacy tokens were used since/)
      expect((JSON.parse(early.stdout) as { tokens: { token_id: string; action: string }[] }).tokens.filter((x) => x.action === 'refused: in use').map((x) => x.token_id)).toEqual([prober.tokenId])
      mark('finish')
      // Usage stamps a call's last-seen when the gateway answered it: a call let in just before the sunset may be
      // stamped just after it. A second after the sunset, no token is in use.
      const finished = await cliJson<{ deleted: number; refused: number }>(['migrate', 'finish', '--unused-since', iso(sunset + 1_000), '--plan', planFile, '--yes'])
      expect(finished).toMatchObject({ deleted: 21, refused: 0 })
      expect((await t.emulator.call<{ tokens: unknown[] }>('GET', `${FN}/tokens`)).tokens).toEqual([])
      summary = { verifyCalls: verified.results.length, verifyRefused: verified.results.filter((r) => r.expect === 'refused').length, neighbourRefusals: refusals.length, prober: { beforeWindow: beforeWindow.length, inside: inside.length, afterWindow: afterWindow.length, afterSunset: afterSunset.length } }
    } finally {
      await loop.stop()
    }

    // Zero failed requests from clients that had switched; none before either.
    const figures = clients.map((c) => {
      const legacy = c.calls.filter((x) => x.credential === 'legacy')
      const key = c.calls.filter((x) => x.credential === 'key')
      return { client: c.index, legacy: legacy.length, legacyFailed: legacy.filter((x) => x.status !== 200).length, key: key.length, keyFailed: key.filter((x) => x.status !== 200).length }
    })
    const failures = clients.flatMap((c) => c.calls.filter((x) => x.status !== 200).map((x) => ({ client: c.index, ...x, at: x.sentAt - started })))
    if (failures.length) {
      console.log(`failures: ${JSON.stringify(failures)}; events ${JSON.stringify(events)}`)
      for (const f of failures) console.log(workerLog.filter(([at]) => Math.abs(at - f.sentAt) < 300).map(([at, w, level, m]) => `${at - f.sentAt} ${w} ${level} ${m}`).join('\n'))
    }
    console.log(`migration rehearsal: ${JSON.stringify(figures)}; ${JSON.stringify(summary)}; total ${Date.now() - started} ms`)
    expect(figures.map((f) => f.keyFailed)).toEqual(figures.map(() => 0))
    expect(figures.map((f) => f.legacyFailed)).toEqual(figures.map(() => 0))
    expect(figures.every((f) => f.key >= 3)).toBe(true)
  })
})
