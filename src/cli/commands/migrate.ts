/**
 * `edgegw migrate plan|apply|verify|schedule|status|finish`: the move from
 * legacy serverless tokens to IAM API keys, keeping each token's reach
 * (docs/migration.md). Each subcommand's action lives in its own file.
 */
import type { Command } from 'commander'
import { contextOf, type CommandContext } from '../lib/context.js'
import { examples } from '../lib/options.js'
import type { Io } from '../lib/output.js'
import { ScalewayClient, scalewaySettings } from '../lib/scaleway-client.js'
import { registerMigrateApply } from './migrate-apply.js'
import { registerMigrateFinish } from './migrate-finish.js'
import { registerMigratePlan } from './migrate-plan.js'
import { registerMigrateSchedule } from './migrate-schedule.js'
import { registerMigrateVerify } from './migrate-verify.js'

/** A command's context plus the Scaleway APIs (IAM, serverless), from `SCW_*`. */
export interface MigrateContext extends CommandContext {
  scw: ScalewayClient
}

/** The context of a migrate subcommand that calls the Scaleway APIs. */
export function migrateContextOf(command: Command, io: Io): MigrateContext {
  return { ...contextOf(command, io), scw: new ScalewayClient(scalewaySettings(io.env)) }
}

/** Registers `migrate` and its subcommands. */
export function registerMigrate(program: Command, io: Io): void {
  const migrate = program
    .command('migrate')
    .description('Move from legacy serverless tokens to IAM API keys, keeping each token\'s reach: plan, apply, verify, schedule, status, finish')
    .addHelpText(
      'after',
      examples(
        'edgegw migrate plan --out plan.json',
        'edgegw migrate apply plan.json --secrets-dir ./secrets --yes',
        'edgegw migrate verify plan.json',
        'edgegw migrate schedule --deprecate-at 2026-12-01T00:00:00Z --brownout 2026-12-10T09:00:00Z/1h --sunset-at 2027-01-15T00:00:00Z',
        'edgegw migrate status',
        'edgegw migrate finish --unused-since 7d --yes',
      ) +
        '\nplan, apply and finish call IAM and the serverless API directly, as the scw CLI does: set SCW_SECRET_KEY, SCW_DEFAULT_ORGANIZATION_ID (and SCW_API_URL, SCW_DEFAULT_REGION when not the defaults).\n' +
        'Keys are minted through the gateway (which captures their digests); usage, schedule and sync go through its admin API.\n',
    )
  registerMigratePlan(migrate, io)
  registerMigrateApply(migrate, io)
  registerMigrateVerify(migrate, io)
  registerMigrateSchedule(migrate, io)
  registerMigrateFinish(migrate, io)
}
