/**
 * `npm run check-config`: would the gateway Worker start with this configuration?
 * Reads wrangler.toml with wrangler's own reader and checks its vars, the KV
 * binding and the secrets with the code the Worker itself runs
 * (src/worker-config.ts), so what this reports is exactly what the Worker would
 * answer 503 `config_invalid` for. It prints setting names, never a value.
 *
 *   npm run check-config                   the deployed Worker's secrets, by name (`wrangler secret list`)
 *   npm run check-config -- --local        the secrets of .dev.vars (or .env), as `wrangler dev` reads them
 *   npm run check-config -- --secret-names ORIGIN_AUTH_TOKEN,ADMIN_TOKEN
 *                                          secrets given by name (CI without Cloudflare credentials)
 *   options: --config <wrangler.toml>, --env <environment>, --env-file <file> (with --local)
 *
 * Exit status: 0 ready (warnings may be printed), 1 a setting is missing or wrong,
 * 2 the check itself could not run (no wrangler.toml, secrets not listable).
 */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { parseArgs } from 'node:util'
import type { GatewayEnv } from '../src/settings.js'
import { SettingError } from '../src/settings.js'
import { workerConfigProblems, workerConfigWarnings } from '../src/worker-config.js'
import { repoFile } from './lib/workers.js'

/** wrangler.toml's placeholder namespace id: fine for `wrangler dev`, not for a deploy. */
const PLACEHOLDER_KV_ID = /^0+$/
/** Stands for a secret known by name only: long enough for every length check. */
const PRESENT = 'x'.repeat(64)

class CheckError extends Error {}

interface Options {
  config: string
  env: string | undefined
  mode: 'remote' | 'local' | 'names'
  envFiles: string[]
  secretNames: string[]
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      env: { type: 'string' },
      local: { type: 'boolean' },
      'env-file': { type: 'string', multiple: true },
      'secret-names': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log('usage: npm run check-config [-- --local [--env-file FILE]… | --secret-names A,B] [--config wrangler.toml] [--env NAME]')
    process.exit(0)
  }
  if (values.local && values['secret-names'] !== undefined) throw new CheckError('--local and --secret-names exclude each other')
  return {
    config: resolve(values.config ?? repoFile('wrangler.toml')),
    env: values.env,
    mode: values.local ? 'local' : values['secret-names'] !== undefined ? 'names' : 'remote',
    envFiles: values['env-file'] ?? [],
    secretNames: (values['secret-names'] ?? '').split(',').map((name) => name.trim()).filter(Boolean),
  }
}

/** The deployed Worker's secret names, from `wrangler secret list` (names only: Cloudflare never returns a value). */
async function remoteSecretNames(opts: Options): Promise<string[]> {
  const args = ['secret', 'list', '--format', 'json', '--config', opts.config, ...(opts.env ? ['--env', opts.env] : [])]
  try {
    const { stdout } = await promisify(execFile)(repoFile('node_modules/.bin/wrangler'), args, { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' } })
    const listed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { name: string }[]
    return listed.map((secret) => secret.name)
  } catch (error) {
    const printed = String((error as { stderr?: string }).stderr || (error as Error).message).replace(/\x1b\[[0-9;]*m/g, '')
    const reason = printed.split('\n').map((line) => line.replace(/^[✘\s]*(\[ERROR\]\s*)?/, '').trim()).find((line) => line !== '') ?? 'unknown error'
    throw new CheckError(
      `cannot list the deployed Worker's secrets (wrangler secret list): ${reason.slice(0, 200)}\n` +
        '  log in (npx wrangler login) or set CLOUDFLARE_API_TOKEN; or check .dev.vars with --local, or name the secrets with --secret-names',
    )
  }
}

async function main(argv: string[]): Promise<number> {
  const opts = options(argv)
  const { unstable_readConfig, unstable_getVarsForDev } = await import('wrangler')
  let config: ReturnType<typeof unstable_readConfig>
  try {
    config = unstable_readConfig({ config: opts.config, ...(opts.env ? { env: opts.env } : {}) }, { hideWarnings: true })
  } catch (error) {
    throw new CheckError(`cannot read ${opts.config}: ${(error as Error).message}`)
  }
  if (!config.configPath) throw new CheckError(`no wrangler configuration at ${opts.config}`)

  const env: Record<string, unknown> = { ...config.vars }
  const problems: SettingError[] = []
  const kv = config.kv_namespaces.find((namespace: { binding: string }) => namespace.binding === 'KEYSET') as { binding: string; id?: string } | undefined
  if (kv) {
    env.KEYSET = { get: async () => null }
    if (opts.mode !== 'local' && PLACEHOLDER_KV_ID.test(kv.id ?? '')) {
      problems.push(new SettingError('KEYSET', 'has the placeholder namespace id of wrangler.toml: create it (npx wrangler kv namespace create KEYSET) and put its id there'))
    }
  }

  let secretsFrom: string
  let secretNames: string[]
  if (opts.mode === 'local') {
    const devVars = unstable_getVarsForDev(opts.config, opts.envFiles.length > 0 ? opts.envFiles : undefined, {}, opts.env, true) as Record<string, { type: string; value: unknown }>
    secretNames = []
    for (const [name, binding] of Object.entries(devVars)) {
      env[name] = binding.value
      if (binding.type === 'secret_text') secretNames.push(name)
    }
    secretsFrom = opts.envFiles.length > 0 ? opts.envFiles.join(', ') : '.dev.vars (or .env) next to the configuration, as wrangler dev reads them'
  } else {
    secretNames = opts.mode === 'names' ? opts.secretNames : await remoteSecretNames(opts)
    for (const name of secretNames) env[name] = PRESENT
    secretsFrom = opts.mode === 'names' ? '--secret-names' : `the deployed Worker "${config.name ?? '?'}" (wrangler secret list)`
  }

  problems.push(...workerConfigProblems(env as unknown as GatewayEnv))
  const warnings = workerConfigWarnings(env as unknown as GatewayEnv).map((w) => `${w.setting} ${w.message}`)
  const crons = config.triggers?.crons ?? []
  if (crons.length === 0) warnings.push('[triggers] crons is empty: the key set is synced only on demand (POST /__edgegw/admin/v1/sync)')

  console.log(`check-config: ${config.configPath}${opts.env ? ` (env ${opts.env})` : ''}; secrets from ${secretsFrom}`)
  for (const problem of problems) console.log(`  ✗ ${problem.message}`)
  for (const warning of warnings) console.log(`  ! ${warning}`)
  if (problems.length > 0) {
    console.log(`check-config: ${problems.length} problem${problems.length === 1 ? '' : 's'} to fix before deploying (while a setting is missing or wrong, the Worker answers 503 config_invalid naming it)`)
    return 1
  }
  const secrets = secretNames.length > 0 ? [...secretNames].sort().join(', ') : 'none'
  console.log(`check-config: ok: ${Object.keys(config.vars).length} vars, KV KEYSET, cron ${crons.join(' ') || 'none'}; secrets: ${secrets}`)
  return 0
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(`check-config: ${error instanceof CheckError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    process.exit(2)
  },
)
