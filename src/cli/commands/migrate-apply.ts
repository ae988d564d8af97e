/**
 * `edgegw migrate apply <plan>`: creates what the plan lists, idempotently.
 * Applications and policies through IAM, keys through the gateway (which
 * captures their digests). After each creation the plan file records its id;
 * a re-run skips what the plan records and first looks in IAM for what a crash
 * may have created without recording it (by name; keys by description), so
 * nothing is created twice. Dry run unless `--yes`.
 */
import { mkdir } from 'node:fs/promises'
import type { Command } from 'commander'
import { GatewayError, UsageError } from '../lib/errors.js'
import { keyDescription, claimTokenSecretFile, readSecretFile, secretFilePath, secretFileText } from '../lib/migration-secrets.js'
import { readPlan, writePlan, type Plan, type PlanGroup, type PlannedToken } from '../lib/migration-plan.js'
import { examples, seg } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { ScalewayClient } from '../lib/scaleway-client.js'
import { syncNow } from '../lib/sync.js'
import type { ApiKeyJson, MintedKeyJson } from '../lib/wire.js'
import { migrateContextOf, type MigrateContext } from './migrate.js'

const IAM = ScalewayClient.IAM

/** One thing apply did, or would do. */
export interface ApplyStep {
  action: 'create' | 'found' | 'skip' | 'replace-orphan'
  what: 'application' | 'policy' | 'key'
  name: string
  id: string | null
}

interface Applying {
  ctx: MigrateContext
  plan: Plan
  file: string
  secretsDir: string
  dryRun: boolean
  steps: ApplyStep[]
}

/** Registers `migrate apply`. */
export function registerMigrateApply(migrate: Command, io: Io): void {
  migrate
    .command('apply')
    .description('Create the plan\'s applications, policies and keys (dry run unless --yes); re-running creates nothing twice')
    .argument('<plan>', 'the plan file (edgegw migrate plan); it records what exists')
    .option('--secrets-dir <dir>', 'where each new secret is written, one 0600 file per token', 'migration-secrets')
    .option('--yes', 'create them (without it, only show what would be created)')
    .addHelpText('after', examples('edgegw migrate apply plan.json', 'edgegw migrate apply plan.json --secrets-dir ./secrets --yes'))
    .action(async (file: string, options: { secretsDir: string; yes?: boolean }, command: Command) => {
      const ctx = migrateContextOf(command, io)
      const plan = await readPlan(file)
      const run: Applying = { ctx, plan, file, secretsDir: options.secretsDir, dryRun: !options.yes, steps: [] }
      if (!run.dryRun) await mkdir(options.secretsDir, { recursive: true, mode: 0o700 })
      for (const group of plan.groups) await applyGroup(run, group)
      if (!run.dryRun && run.steps.some((s) => s.action !== 'skip')) await syncNow(ctx)
      if (ctx.out.json) return ctx.out.writeJson({ dry_run: run.dryRun, steps: run.steps })
      ctx.out.table(
        [
          { header: 'ACTION', value: (s: ApplyStep) => (run.dryRun && s.action === 'create' ? 'would create' : s.action) },
          { header: 'WHAT', value: (s: ApplyStep) => s.what },
          { header: 'NAME', value: (s: ApplyStep) => s.name },
          { header: 'ID', value: (s: ApplyStep) => s.id },
        ],
        run.steps,
        'The plan is empty: nothing to create.',
      )
      if (run.dryRun) ctx.out.note('\nDry run: nothing was created. Pass --yes to create them.')
      else ctx.out.note(`\nDone. Each new secret is in ${options.secretsDir}/<token id>.key (mode 0600): send it to the owner named in it. Next: edgegw migrate verify ${file}`)
    })
}

async function record(run: Applying): Promise<void> {
  await writePlan(run.file, run.plan)
}

async function applyGroup(run: Applying, group: PlanGroup): Promise<void> {
  const { ctx, plan } = run
  const scw = ctx.scw
  if (group.application.id) run.steps.push({ action: 'skip', what: 'application', name: group.application.name, id: group.application.id })
  else {
    const found = await scw.list<{ id: string; name: string }>(`${IAM}/applications`, 'applications', { organization_id: plan.organization_id, name: group.application.name })
    const same = found.filter((a) => a.name === group.application.name)
    if (same.length > 1) throw new GatewayError(409, 'application_ambiguous', `${same.length} IAM applications are named ${group.application.name}: delete the extra ones, or write the right id into the plan`)
    if (same[0]) {
      group.application.id = same[0].id
      run.steps.push({ action: 'found', what: 'application', name: group.application.name, id: same[0].id })
    } else if (run.dryRun) run.steps.push({ action: 'create', what: 'application', name: group.application.name, id: null })
    else {
      const created = await scw.call<{ id: string }>('POST', `${IAM}/applications`, { name: group.application.name, organization_id: plan.organization_id, description: `edgegw migrate: callers of the legacy tokens of ${group.scope.label}` })
      group.application.id = created.id
      run.steps.push({ action: 'create', what: 'application', name: group.application.name, id: created.id })
    }
    if (group.application.id && !run.dryRun) await record(run)
  }
  const applicationId = group.application.id

  if (group.policy.id) run.steps.push({ action: 'skip', what: 'policy', name: group.policy.name, id: group.policy.id })
  else {
    const found = applicationId
      ? (await scw.list<{ id: string; name: string }>(`${IAM}/policies`, 'policies', { organization_id: plan.organization_id, application_ids: applicationId, policy_name: group.policy.name })).filter((p) => p.name === group.policy.name)
      : []
    if (found[0]) {
      group.policy.id = found[0].id
      run.steps.push({ action: 'found', what: 'policy', name: group.policy.name, id: found[0].id })
      if (!run.dryRun) await record(run)
    } else if (run.dryRun) run.steps.push({ action: 'create', what: 'policy', name: group.policy.name, id: null })
    else {
      const created = await scw.call<{ id: string }>('POST', `${IAM}/policies`, {
        name: group.policy.name,
        description: `edgegw migrate: the reach of the legacy tokens of ${group.scope.label}`,
        organization_id: plan.organization_id,
        application_id: applicationId,
        rules: [group.policy.rule],
      })
      group.policy.id = created.id
      run.steps.push({ action: 'create', what: 'policy', name: group.policy.name, id: created.id })
      await record(run)
    }
  }

  const existing = applicationId ? await keysOf(run.ctx, applicationId) : []
  for (const token of group.tokens) await applyKey(run, group, token, existing)
}

async function keysOf(ctx: MigrateContext, applicationId: string): Promise<ApiKeyJson[]> {
  const keys: ApiKeyJson[] = []
  for (let page = 1; ; page++) {
    const { body } = await ctx.client.call<{ data: ApiKeyJson[]; total_count: number }>('GET', '/api-keys', { query: { application_id: applicationId, page, page_size: 100 } })
    keys.push(...body.data)
    if (body.data.length === 0 || keys.length >= body.total_count) return keys
  }
}

async function applyKey(run: Applying, group: PlanGroup, token: PlannedToken, existing: readonly ApiKeyJson[]): Promise<void> {
  const label = `key for token ${token.token_id}`
  if (token.key) return void run.steps.push({ action: 'skip', what: 'key', name: label, id: token.key.access_key })
  const path = secretFilePath(run.secretsDir, token.token_id)
  const mine = existing.filter((k) => k.description === keyDescription(token.token_id))
  // A crash after the secret file was written, before the plan recorded it: the file names the live key.
  const saved = await readSecretFile(path)
  const savedKey = saved && mine.find((k) => k.access_key === saved.accessKey)
  if (savedKey) {
    token.key = { access_key: savedKey.access_key, secret_file: path }
    run.steps.push({ action: 'found', what: 'key', name: label, id: savedKey.access_key })
    if (!run.dryRun) await record(run)
    return
  }
  if (saved) throw new UsageError(`${path} names key ${saved.accessKey}, which IAM no longer has for this token: move the file away, then run apply again`)
  // A key minted whose secret never reached its file: nobody can use it; it is revoked and replaced.
  for (const orphan of mine) {
    run.steps.push({ action: 'replace-orphan', what: 'key', name: label, id: orphan.access_key })
    if (!run.dryRun) await run.ctx.client.call('DELETE', `/api-keys/${seg(orphan.access_key)}`)
  }
  if (run.dryRun) return void run.steps.push({ action: 'create', what: 'key', name: label, id: null })
  const file = await claimTokenSecretFile(path)
  let minted: MintedKeyJson
  try {
    ;({ body: minted } = await run.ctx.client.call<MintedKeyJson>('POST', '/api-keys', {
      body: { application_id: group.application.id, description: keyDescription(token.token_id), default_project_id: group.scope.project_id, kind: token.key_kind },
    }))
  } catch (error) {
    await file.abandon()
    throw error
  }
  await file.write(secretFileText(group, token, minted.access_key, minted.secret_key))
  token.key = { access_key: minted.access_key, secret_file: path }
  run.steps.push({ action: 'create', what: 'key', name: label, id: minted.access_key })
  await record(run)
}
