import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/lib/errors.js'
import { buildPlan, keyKindFor, type LegacyTokenInfo, type RouteInfo, type TokenUsage } from '../../src/cli/lib/migration-build.js'
import { checkPlan, readPlan, writePlan } from '../../src/cli/lib/migration-plan.js'

const ORG = '7719a78c-85c2-4eba-9a77-c5649ab96be8'
const P1 = '2bbb09a6-9600-44d8-bde8-a88e3a03a2f2'
const P2 = '3ccc09a6-9600-44d8-bde8-a88e3a03a2f3'
const NS_A = 'aaaaaaaa-0000-4000-8000-000000000001'
const NS_B = 'bbbbbbbb-0000-4000-8000-000000000002'
const NS_C = 'cccccccc-0000-4000-8000-000000000003'
const FN_A1 = 'aaaaaaaa-1111-4000-8000-000000000001'
const FN_A2 = 'aaaaaaaa-2222-4000-8000-000000000002'
const FN_B1 = 'bbbbbbbb-1111-4000-8000-000000000001'
const FN_C1 = 'cccccccc-1111-4000-8000-000000000001'
const NOW = Date.parse('2026-11-30T12:00:00Z')
const DAY = 86_400_000

const tid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const ns = (id: string, project = P1) => ({ kind: 'namespace' as const, product: 'functions' as const, project_id: project, namespace_id: id, resource_id: null, label: `namespace ${id.slice(0, 8)}` })
const fn = (id: string, namespace: string, project = P1) => ({ kind: 'function' as const, product: 'functions' as const, project_id: project, namespace_id: namespace, resource_id: id, label: `function ${id.slice(0, 8)}` })
const token = (n: number, scope: LegacyTokenInfo['scope'], expiresAt: string | null = null): LegacyTokenInfo => ({ id: tid(n), product: 'functions', description: `token ${n}`, expiresAt, scope })
const used = (lastSeenMs: number, userAgents = ['cron/1']): TokenUsage => ({ calls: 5, lastSeen: new Date(lastSeenMs).toISOString(), routes: ['a1'], userAgents })
const routes: RouteInfo[] = [
  { id: 'a1', paths: ['/a1'], target: { kind: 'function', projectId: P1, namespaceId: NS_A, resourceId: FN_A1 } },
  { id: 'a2', paths: ['/a2', '/a2-alias'], methods: ['POST'], target: { kind: 'function', projectId: P1, namespaceId: NS_A, resourceId: FN_A2 } },
  { id: 'b1', paths: ['/b1'], target: { kind: 'function', projectId: P1, namespaceId: NS_B, resourceId: FN_B1 } },
  { id: 'c1', paths: ['/c1'], target: { kind: 'function', projectId: P2, namespaceId: NS_C, resourceId: FN_C1 } },
  { id: 'echo', paths: ['/echo'], target: { kind: 'container', projectId: P1, namespaceId: NS_B, resourceId: FN_B1 } },
]

function plan() {
  const tokens = [token(1, ns(NS_A)), token(2, ns(NS_A)), token(3, fn(FN_A1, NS_A)), token(4, fn(FN_C1, NS_C, P2)), token(5, ns(NS_B)), token(6, ns(NS_B), new Date(NOW - DAY).toISOString())]
  const usage = new Map([
    [tid(1), used(NOW - DAY)],
    [tid(2), used(NOW - 2 * DAY, ['GitHub-Actions/2.3'])],
    [tid(3), used(NOW - 3600_000)],
    [tid(4), used(NOW - 60_000)],
    // 5: last used 40 days ago → idle; 6: expired.
    [tid(5), used(NOW - 40 * DAY)],
    [tid(6), used(NOW - 60_000)],
  ])
  return buildPlan({ organizationId: ORG, region: 'fr-par', tokens, usage, routes, idleSinceMs: NOW - 30 * DAY, nowMs: NOW })
}

describe('buildPlan', () => {
  it('groups tokens sharing a scope under one application, one key per token, with the condition that reproduces the reach', () => {
    const p = plan()
    expect(p.groups.map((g) => [g.application.name, g.policy.rule.condition, g.tokens.map((t) => t.token_id)])).toEqual([
      [`legacy-function-${FN_A1}`, `resource.id == "${FN_A1}"`, [tid(3)]],
      [`legacy-function-${FN_C1}`, `resource.id == "${FN_C1}"`, [tid(4)]],
      [`legacy-namespace-${NS_A}`, `resource.namespace_id == "${NS_A}"`, [tid(1), tid(2)]],
    ])
    const nsA = p.groups[2]!
    expect(nsA.policy.rule).toEqual({ permission_set_names: ['FunctionsPrivateAccess'], project_ids: [P1], condition: `resource.namespace_id == "${NS_A}"` })
    expect(p.groups[1]!.policy.rule.project_ids).toEqual([P2])
    expect(nsA.tokens.every((t) => t.key === null)).toBe(true)
  })

  it('marks idle and expired tokens for deletion instead of migrating them', () => {
    expect(plan().idle.map((t) => [t.token_id, t.reason])).toEqual([
      [tid(5), 'idle'],
      [tid(6), 'expired'],
    ])
  })

  it('a token never seen in usage is idle', () => {
    const p = buildPlan({ organizationId: ORG, region: 'fr-par', tokens: [token(9, ns(NS_A))], usage: new Map(), routes, idleSinceMs: NOW - DAY, nowMs: NOW })
    expect(p.groups).toEqual([])
    expect(p.idle).toMatchObject([{ token_id: tid(9), reason: 'idle', last_seen: null }])
  })

  it.each([
    ['a namespace', 2, ['/a1', '/a2'], ['/b1']],
    ['one function', 0, ['/a1'], ['/a2', '/b1']],
    ['a function of the other project', 1, ['/c1'], ['/a1', '/a2', '/b1']],
  ])('verify probes for %s: its routes allowed, neighbours of the same kind (same project first) refused', (_, index, allowed, refused) => {
    const group = plan().groups[index]!
    expect(group.verify.allowed.map((p) => p.path)).toEqual(allowed)
    expect(group.verify.refused.map((p) => p.path)).toEqual(refused)
  })

  it.each([
    [['GitHub-Actions/2.3'], 'ci'],
    [['gitlab-runner 16.1'], 'ci'],
    [['curl/8.5.0', 'python-requests/2.31'], 'service'],
    [[], 'service'],
  ])('key kind for user agents %j is %s', (agents, kind) => {
    expect(keyKindFor(agents)).toBe(kind)
  })

  it('produces a plan its own schema accepts', () => {
    const p = plan()
    expect(checkPlan(JSON.parse(JSON.stringify(p)), 'plan.json')).toEqual(p)
  })
})

describe('the plan file', () => {
  let dir: string
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'edgegw-plan-'))))
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('is written whole, with no temporary file left, and read back equal', async () => {
    const file = join(dir, 'plan.json')
    await writePlan(file, plan())
    expect(await readPlan(file)).toEqual(plan())
    expect(await readdir(dir)).toEqual(['plan.json'])
  })

  it.each([
    ['a version it does not read', (p: any) => void (p.version = 2), /^bad\.json: version: expected 1/],
    ['a policy without a condition', (p: any) => void (p.groups[0].policy.rule.condition = ''), /^bad\.json: groups\.0\.policy\.rule\.condition: a condition is required/],
    ['a project id that is not a UUID', (p: any) => void (p.groups[1].policy.rule.project_ids = ['prod']), /^bad\.json: groups\.1\.policy\.rule\.project_ids\.0: expected a UUID/],
    ['an unknown key kind', (p: any) => void (p.groups[2].tokens[1].key_kind = 'admin'), /^bad\.json: groups\.2\.tokens\.1\.key_kind: expected one of personal, ci, service/],
    ['an unknown field', (p: any) => void (p.groups[0].extra = true), /^bad\.json: groups\.0\.extra: /],
  ])('refuses %s, naming the field', async (_, edit, message) => {
    const p = JSON.parse(JSON.stringify(plan()))
    edit(p)
    const file = join(dir, 'bad.json')
    await writeFile(file, JSON.stringify(p))
    const error = await readPlan(file).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message.replace(dir + '/', '')).toMatch(message)
    expect((error as Error).message).toMatch(/nothing was changed/)
    // The file itself is untouched.
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(p)
  })
})
