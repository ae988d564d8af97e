/**
 * The sync's readers of what scales with the organisation: captured digests, IAM
 * principals and API keys. Each reads as many pages as its step's subrequest budget
 * allows (an API call may cost as many subrequests as it has attempts), hands them
 * to the key-set owner, and returns a small cursor from which the next step goes on.
 */
import { principalDoc, type KeyRange } from '../keyset/owner/index-feed.js'
import type { CaptureEntry, IamKeyEntry } from '../keyset/owner/records.js'
import type { RangePage } from '../keyset/manifest-owner.js'
import { inParallel } from '../util/in-parallel.js'
import { ApiCallError } from './api-error.js'
import { compilePrincipals, iamKeyEntry } from './compile-keys.js'
import type { IamApi, IamApplication, IamGroup, IamPolicy, IamRule, IamUser } from './iam-api.js'
import type { OwnerCalls } from './owner-client.js'
import { Registry, type RegistryKv } from './registry.js'
import type { SubrequestMeter } from './subrequests.js'

/** What a feeding step works with. */
export interface FeedContext {
  runId: string
  owner: OwnerCalls
  meter: SubrequestMeter
}

/** Registry pages (1,000 captures each) handed to the owner in one call at most: a few MB. */
const CAPTURE_PAGES_PER_CALL = 10
/** Parallel API calls (a Worker holds six connections). */
const PARALLEL = 6

/** What one API call may cost in subrequests: one per attempt. */
const costOf = (iam: IamApi): number => (Number.isInteger(iam.attempts) && iam.attempts >= 1 ? iam.attempts : 1)

/** Where the captures feed stands. */
export interface CapturesCursor {
  kvCursor?: string | undefined
  /** The last access key fed: the next page covers what comes after it. */
  after: string | null
  done: boolean
  pages: number
}

/** The first captures cursor. */
export const capturesStart = (): CapturesCursor => ({ after: null, done: false, pages: 0 })

/**
 * Feeds registry pages of captured digests (a KV `list` each, 1,000 digests) to the
 * owner, which takes captures that left out of the committed key set at once.
 */
export async function feedCaptures(ctx: FeedContext, kv: RegistryKv, start: CapturesCursor): Promise<{ cursor: CapturesCursor; changed: number; removed: number; shardsPatched: number }> {
  const registry = new Registry(kv)
  let cursor = start
  const totals = { changed: 0, removed: 0, shardsPatched: 0 }
  let pending: RangePage<CaptureEntry>[] = []
  const flush = async () => {
    if (pending.length === 0) return
    const fed = await ctx.owner.feedCaptures(ctx.runId, pending)
    totals.changed += fed.changed
    totals.removed += fed.removed
    totals.shardsPatched += fed.shardsPatched
    pending = []
  }
  // One list, and one owner call for what is pending, must fit.
  while (!cursor.done && ctx.meter.remaining >= 3) {
    const page = await registry.capturedKeysPage(cursor.kvCursor)
    const range: KeyRange = { after: cursor.after, until: page.done ? null : (page.last ?? cursor.after) }
    pending.push({ range, items: page.entries })
    cursor = { kvCursor: page.cursor, after: page.last ?? cursor.after, done: page.done, pages: cursor.pages + 1 }
    if (pending.length >= CAPTURE_PAGES_PER_CALL) await flush()
  }
  await flush()
  return { cursor, ...totals }
}

/** Where the API-key listing stands. */
export interface IamKeysCursor {
  /** The next page to read (1-based). */
  page: number
  after: string | null
  done: boolean
  /** The listing's `total_count`, as last seen. */
  total: number
}

/** The first API-key cursor. */
export const iamKeysStart = (): IamKeysCursor => ({ page: 1, after: null, done: false, total: 0 })

/**
 * Feeds pages of the organisation's API keys, in access-key order, up to six read
 * at once, each batch handed to the owner before the next is read. Keys of the index a page's range lacks become suspects (see
 * {@link confirmSuspects}).
 */
export async function feedIamKeys(ctx: FeedContext, iam: IamApi, organizationId: string, start: IamKeysCursor): Promise<{ cursor: IamKeysCursor; changed: number; suspects: number }> {
  let cursor = start
  const totals = { changed: 0, suspects: 0 }
  let pending: RangePage<IamKeyEntry>[] = []
  const flush = async () => {
    if (pending.length === 0) return
    const fed = await ctx.owner.feedIamKeys(ctx.runId, pending)
    totals.changed += fed.changed
    totals.suspects += fed.suspects
    pending = []
  }
  for (;;) {
    if (cursor.done) break
    const parallel = Math.min(PARALLEL, Math.floor((ctx.meter.remaining - 2) / costOf(iam)))
    if (parallel < 1) break
    const numbers = Array.from({ length: parallel }, (_, i) => cursor.page + i)
    // Every call settles before the step goes on or fails: none is left running.
    const settled = await Promise.allSettled(numbers.map((n) => iam.listPage('api-keys', organizationId, n)))
    const failed = settled.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    const pages = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    for (const [i, page] of pages.entries()) {
      const last = page.items.at(-1)?.access_key
      pending.push({ range: { after: cursor.after, until: page.last ? null : (last ?? cursor.after) }, items: page.items.map(iamKeyEntry).filter((k) => k !== undefined) })
      cursor = { page: numbers[i]! + 1, after: last ?? cursor.after, done: page.last, total: page.total }
      if (page.last) break
    }
    // Each batch goes to the owner before the next is read: a step that fails later
    // has handed over what it read, and its retry hands it over again (idempotent).
    await flush()
  }
  await flush()
  return { cursor, ...totals }
}

/**
 * Reads the suspects one by one (`GET /api-keys/{access key}`): a 404 takes the
 * key out of the index, an answer keeps it as IAM shows it. @returns `done` once
 * none is left.
 */
export async function confirmSuspects(ctx: FeedContext, iam: IamApi): Promise<{ done: boolean; confirmed: number; gone: number }> {
  let confirmed = 0
  let gone = 0
  for (;;) {
    const room = Math.floor((ctx.meter.remaining - 2) / costOf(iam))
    if (room < 1) return { done: false, confirmed, gone }
    const { accessKeys } = await ctx.owner.suspects(ctx.runId, Math.min(room, 100))
    if (accessKeys.length === 0) return { done: true, confirmed, gone }
    const results: { accessKey: string; key: IamKeyEntry | null }[] = []
    await inParallel(accessKeys, PARALLEL, async (accessKey) => {
      try {
        results.push({ accessKey, key: iamKeyEntry(await iam.getApiKey(accessKey)) ?? null })
      } catch (error) {
        if (!(error instanceof ApiCallError && error.status === 404)) throw error
        results.push({ accessKey, key: null })
        gone++
      }
    })
    await ctx.owner.confirmIamKeys(ctx.runId, results)
    confirmed += results.length
  }
}

const PRINCIPAL_LISTS = ['applications', 'users', 'groups', 'policies'] as const
const STAGE_KIND = { applications: 'application', users: 'user', groups: 'group', policies: 'policy' } as const

/** Where the principals feed stands: a list and its next page, then each policy's rules. */
export interface PrincipalsCursor {
  /** 0–3: the lists above; 4: rules; 5: done. */
  phase: number
  page: number
  /** Index of the next policy whose rules to read (policies in id order). */
  policy: number
  done: boolean
}

/** The first principals cursor. */
export const principalsStart = (): PrincipalsCursor => ({ phase: 0, page: 1, policy: 0, done: false })

/**
 * Stages applications, users, groups and policies page by page, then each policy's
 * rules, in the owner, for {@link compileStagedPrincipals}.
 */
export async function feedPrincipals(ctx: FeedContext, iam: IamApi, organizationId: string, start: PrincipalsCursor): Promise<{ cursor: PrincipalsCursor }> {
  let cursor = start
  const buffer = new Map<string, { id: string; doc: string }[]>()
  const add = (kind: string, id: string, doc: unknown) => buffer.set(kind, [...(buffer.get(kind) ?? []), { id, doc: JSON.stringify(doc) }])
  // Room for the flush: one stage call per kind, and the policy ids.
  const reserve = 6
  let policyIds: string[] | undefined
  while (!cursor.done && ctx.meter.remaining >= reserve + costOf(iam)) {
    if (cursor.phase < PRINCIPAL_LISTS.length) {
      const list = PRINCIPAL_LISTS[cursor.phase]!
      const page = await iam.listPage(list, organizationId, cursor.page)
      for (const item of page.items) add(STAGE_KIND[list], item.id, item)
      cursor = page.last ? { ...cursor, phase: cursor.phase + 1, page: 1 } : { ...cursor, page: cursor.page + 1 }
      continue
    }
    if (!policyIds) {
      await flushStage(ctx, buffer)
      policyIds = (await ctx.owner.staged(ctx.runId, 'policy')).items.map((item) => item.id)
    }
    const policyId = policyIds[cursor.policy]
    if (policyId === undefined) {
      cursor = { ...cursor, phase: cursor.phase + 1, done: true }
      break
    }
    const page = await iam.rulesPage(policyId, cursor.page)
    add('rules', `${policyId}#${cursor.page}`, page.items)
    cursor = page.last ? { ...cursor, policy: cursor.policy + 1, page: 1 } : { ...cursor, page: cursor.page + 1 }
  }
  await flushStage(ctx, buffer)
  return { cursor }
}

async function flushStage(ctx: FeedContext, buffer: Map<string, { id: string; doc: string }[]>): Promise<void> {
  for (const [kind, items] of buffer) if (items.length > 0) await ctx.owner.stage(ctx.runId, kind, items)
  buffer.clear()
}

/**
 * Compiles the staged principals into each bearer's grants and hands them to the
 * owner, which marks the keys of those that changed.
 */
export async function compileStagedPrincipals(ctx: FeedContext, organizationId: string): Promise<{ counts: Record<string, number>; warnings: string[]; changed: number }> {
  const staged = async <T>(kind: string): Promise<{ id: string; value: T }[]> =>
    (await ctx.owner.staged(ctx.runId, kind)).items.map(({ id, doc }) => ({ id, value: JSON.parse(doc) as T }))
  const [applications, users, groups, policies, rulePages] = await Promise.all([
    staged<IamApplication>('application'),
    staged<IamUser>('user'),
    staged<IamGroup>('group'),
    staged<IamPolicy>('policy'),
    staged<IamRule[]>('rules'),
  ])
  const rules = new Map<string, IamRule[]>()
  for (const { id, value } of rulePages) {
    const policyId = id.slice(0, id.lastIndexOf('#'))
    rules.set(policyId, [...(rules.get(policyId) ?? []), ...value])
  }
  const compiled = compilePrincipals({
    organizationId,
    applications: applications.map((a) => a.value),
    users: users.map((u) => u.value),
    groups: groups.map((g) => g.value),
    policies: policies.map((p) => p.value),
    rules,
  })
  const docs = [...compiled.principals].map(([id, record]) => ({ id, doc: principalDoc(record) }))
  for (let i = 0; i < docs.length; i += 1000) await ctx.owner.stage(ctx.runId, 'principal', docs.slice(i, i + 1000))
  const applied = await ctx.owner.applyPrincipals(ctx.runId)
  return {
    counts: { applications: applications.length, users: users.length, groups: groups.length, policies: policies.length },
    warnings: compiled.warnings,
    changed: applied.changed,
  }
}
