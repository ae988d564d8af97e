/** The Durable Object that holds the whole emulator: state in SQLite, the app in front. */
import { DurableObject } from 'cloudflare:workers'
import type { Hono } from 'hono'
import { createApp } from './app.js'
import { type EmulatorEnv, resolveConfig } from './config.js'
import type { AppEnv } from './context.js'
import { migrate, readSetting } from './db/schema.js'
import { Tables } from './db/tables.js'
import { FaultSwitch } from './faults.js'
import { seed } from './seed.js'
import { SigningKeys } from './serverless/signing.js'

/**
 * One instance (named `emulator`) serves every request, so state changes are
 * serialised and survive restarts (`new_sqlite_classes` migration).
 */
export class EmulatorStore extends DurableObject<EmulatorEnv> {
  private readonly app: Hono<AppEnv> | undefined
  private readonly startupError: string | undefined

  constructor(ctx: DurableObjectState, env: EmulatorEnv) {
    super(ctx, env)
    const sql = ctx.storage.sql
    let app: Hono<AppEnv> | undefined
    let startupError: string | undefined
    try {
      migrate(sql)
      const config = resolveConfig(env, readSetting(sql, 'organization_id'))
      const tables = new Tables(sql)
      seed(tables, config, new Date())
      app = createApp(
        { tables, config, signingKeys: new SigningKeys(sql, config.rsaModulusBits), adminSecret: () => this.env.EMULATOR_ADMIN_SECRET, now: () => new Date() },
        new FaultSwitch(sql),
      )
    } catch (error) {
      startupError = error instanceof Error ? error.message : String(error)
    }
    this.app = app
    this.startupError = startupError
  }

  /** Serves one HTTP request. */
  override async fetch(request: Request): Promise<Response> {
    if (!this.app) return Response.json({ message: `emulator failed to start: ${this.startupError}`, type: 'internal_error' }, { status: 500 })
    // Read the body first: a refusal can come before a handler reads it, and a
    // request stream must not outlive its answer.
    const body = request.body ? await request.arrayBuffer() : null
    return this.app.fetch(new Request(request, { body }))
  }
}
