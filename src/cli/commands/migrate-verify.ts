/**
 * `edgegw migrate verify <plan>`: calls every migrated target through the
 * gateway with each new key, and neighbours it must not reach: allowed where
 * the token was, refused (403) elsewhere. Exit 1 on any surprise.
 */
import type { Command } from 'commander'
import { GatewayError } from '../lib/errors.js'
import { readSecretFile } from '../lib/migration-secrets.js'
import { readPlan, type Probe } from '../lib/migration-plan.js'
import { examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { contextOf } from '../lib/context.js'

/** One call of verify and what came of it. */
export interface VerifyResult {
  token_id: string
  access_key: string
  expect: 'allowed' | 'refused'
  method: string
  path: string
  status: number
  code: string | null
  ok: boolean
}

/** Whether an answer is what verify expected: allowed is any status below 400; refused is 403. */
export function asExpected(expect: VerifyResult['expect'], status: number): boolean {
  return expect === 'allowed' ? status < 400 : status === 403
}

/** Registers `migrate verify`. */
export function registerMigrateVerify(migrate: Command, io: Io): void {
  migrate
    .command('verify')
    .description('Call each migrated target through the gateway with its new key (must pass) and neighbours (must be refused)')
    .argument('<plan>', 'the plan file apply filled in')
    .addHelpText('after', examples('edgegw migrate verify plan.json', "edgegw migrate verify plan.json --json | jq '.results[] | select(.ok | not)'"))
    .action(async (file: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command, io)
      const plan = await readPlan(file)
      const results: VerifyResult[] = []
      const pending: string[] = []
      for (const group of plan.groups) {
        for (const token of group.tokens) {
          if (!token.key) {
            pending.push(token.token_id)
            continue
          }
          const secret = await readSecretFile(token.key.secret_file)
          if (!secret) throw new GatewayError(0, 'secret_file_unreadable', `${token.key.secret_file}: cannot read the key of token ${token.token_id} (verify reads the secret files apply wrote)`)
          const probes: (readonly [VerifyResult['expect'], Probe])[] = [...group.verify.allowed.map((p) => ['allowed', p] as const), ...group.verify.refused.map((p) => ['refused', p] as const)]
          for (const [expect, probe] of probes) {
            const res = await fetch(`${ctx.client.gatewayUrl}${probe.path}`, { method: probe.method, headers: { 'x-auth-token': secret.secretKey, 'user-agent': 'edgegw-migrate-verify' }, redirect: 'manual' })
            const text = await res.text()
            let code: string | null = null
            try {
              code = (JSON.parse(text) as { code?: string }).code ?? null
            } catch {
              // an origin's answer that is not a problem document
            }
            results.push({ token_id: token.token_id, access_key: token.key.access_key, expect, method: probe.method, path: probe.path, status: res.status, code, ok: asExpected(expect, res.status) })
          }
        }
      }
      const failed = results.filter((r) => !r.ok)
      if (ctx.out.json) ctx.out.writeJson({ ok: failed.length === 0 && pending.length === 0, results, not_applied: pending })
      else {
        ctx.out.table(
          [
            { header: 'TOKEN', value: (r: VerifyResult) => r.token_id },
            { header: 'KEY', value: (r: VerifyResult) => r.access_key },
            { header: 'EXPECT', value: (r: VerifyResult) => r.expect },
            { header: 'CALL', value: (r: VerifyResult) => `${r.method} ${r.path}` },
            { header: 'GOT', value: (r: VerifyResult) => `${r.status}${r.code ? ` ${r.code}` : ''}` },
            { header: 'OK', value: (r: VerifyResult) => (r.ok ? 'yes' : 'NO') },
          ],
          results,
          'Nothing to verify: no key in the plan yet (edgegw migrate apply).',
        )
        ctx.out.write(`\n${results.length - failed.length}/${results.length} calls as expected${pending.length ? `; ${pending.length} tokens have no key yet (apply)` : ''}.`)
      }
      if (failed.length > 0) throw new GatewayError(0, 'verify_failed', `${failed.length} of ${results.length} calls were not as expected`)
      if (pending.length > 0) throw new GatewayError(0, 'not_applied', `${pending.length} tokens of the plan have no key yet: run edgegw migrate apply ${file} --yes`)
    })
}
