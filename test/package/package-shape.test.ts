import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoPath, run } from './support.js'

describe('npm pack', () => {
  let files: string[]

  beforeAll(async () => {
    // dist/ is built by the project's global setup; --ignore-scripts skips prepack's second build.
    const packed = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'])
    expect(packed.status, packed.stderr).toBe(0)
    files = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path)
  })

  it('ships the library, the Worker, their types, the edgegw command, the README and the LICENSE', () => {
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/worker.js', 'dist/worker.d.ts', 'bin/edgegw.js', 'dist/cli/main.js']) expect(files).toContain(file)
  })

  it('ships nothing else: no sources, emulator, tests, examples, docs or scripts', () => {
    const other = files.filter((file) => !['LICENSE', 'README.md', 'package.json', 'bin/edgegw.js'].includes(file) && !/^dist\/.+\.(js|d\.ts)$/.test(file))
    expect(other).toEqual([])
    expect(files.filter((file) => /emulator/.test(file))).toEqual([])
  })

  it('has the Apache-2.0 text that package.json names', async () => {
    const pkg = JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { license: string }
    expect(pkg.license).toBe('Apache-2.0')
    const license = await readFile(repoPath('LICENSE'), 'utf8')
    expect(license).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n\s+http:\/\/www\.apache\.org\/licenses\/\n/)
    expect(license).toContain('END OF TERMS AND CONDITIONS')
  })
})

/**
 * The `edgegw` bin as `npm install` of the tarball lays it out: no sources, no tsx,
 * so bin/edgegw.js runs the build in dist/cli, beside the package's runtime
 * `dependencies` (what `npm install` would bring; the CLI uses commander and valibot).
 */
describe('the edgegw command, installed from the tarball', () => {
  let dir: string
  let bin: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgegw-bin-'))
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir])
    expect(packed.status, packed.stderr).toBe(0)
    const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename)
    const extracted = await new Promise<number | null>((resolve) => execFile('tar', ['-xzf', tarball, '-C', dir], (error) => resolve(error ? 1 : 0)))
    expect(extracted).toBe(0)
    await mkdir(join(dir, 'package', 'node_modules'), { recursive: true })
    const manifest = JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { dependencies: Record<string, string> }
    for (const name of Object.keys(manifest.dependencies)) {
      const link = join(dir, 'package', 'node_modules', name)
      await mkdir(dirname(link), { recursive: true })
      await symlink(repoPath(`node_modules/${name}`), link)
    }
    bin = join(dir, 'package', 'bin', 'edgegw.js')
  })

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('answers --version and --help from dist/cli', async () => {
    const pkg = JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { version: string; bin: Record<string, string> }
    expect(pkg.bin).toEqual({ edgegw: './bin/edgegw.js' })
    const version = await run('node', [bin, '--version'], { cwd: dir })
    expect(version).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '' })
    const help = await run('node', [bin, 'route', 'add', '--help'], { cwd: dir })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('$ edgegw route add /app --target function:hello --jwt')
  })

  it('exits 2 without an admin credential, before any request', async () => {
    const result = await run('node', [bin, 'route', 'ls'], { cwd: dir, env: { EDGEGW_ADMIN_TOKEN: '', SCW_SECRET_KEY: '', EDGEGW_URL: 'http://127.0.0.1:9' } })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^edgegw: no admin credential/)
  })
})

/**
 * A consumer outside the repository, with `edge-auth-gateway` installed (a link to
 * this package, as `npm install` of the tarball lays it out), type-checked by tsc
 * with each module resolution, `skipLibCheck: false` and no DOM types.
 */
describe('types, as consumers resolve them', () => {
  let dir: string

  const consumer = `
import { Hono } from 'hono'
import { edgeAuth, kvKeySet, staticKeySet, syncKeySet, registerApiKey, type EdgeAuthVariables, type KeySetSource, type Target } from 'edge-auth-gateway'
import type { GatewayEnv } from 'edge-auth-gateway/worker'

declare const snapshot: KeySetSource
declare const target: Target
type Env = { Bindings: { KEYSET: KVNamespace; IAM_API_TOKEN: string } }

const api = new Hono<Env & { Variables: EdgeAuthVariables }>()
api.use(edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target }))
api.get('/whoami', (c) => c.json(c.var.edgeAuth.principal))
// @ts-expect-error the selector sees the app's Bindings only
edgeAuth<Env>({ keySet: kvKeySet((env) => env.TYPO), target })
const open = new Hono<Env>()
// @ts-expect-error no middleware, no identity
open.get('/', (c) => c.json(c.var.edgeAuth))
edgeAuth({ keySet: staticKeySet(snapshot), target })
export const sync = (env: GatewayEnv) => syncKeySet({ kv: env.KEYSET, iam: { token: 't', organizationId: 'o' } })
export const register = (env: GatewayEnv) => registerApiKey(env.KEYSET, { accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey: 's' })
`

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgegw-consumer-'))
    await mkdir(join(dir, 'node_modules', '@cloudflare'), { recursive: true })
    await symlink(repoPath('.'), join(dir, 'node_modules', 'edge-auth-gateway'))
    await symlink(repoPath('node_modules/hono'), join(dir, 'node_modules', 'hono'))
    await symlink(repoPath('node_modules/@cloudflare/workers-types'), join(dir, 'node_modules', '@cloudflare', 'workers-types'))
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    await writeFile(join(dir, 'index.ts'), consumer)
  })

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it.each<[string, string]>([
    ['node16', 'node16'],
    ['nodenext', 'nodenext'],
    ['bundler', 'esnext'],
    ['node10', 'commonjs'],
  ])('resolve with moduleResolution %s', async (moduleResolution, module) => {
    const tsconfig = join(dir, `tsconfig.${moduleResolution}.json`)
    await writeFile(
      tsconfig,
      JSON.stringify({
        compilerOptions: { module, moduleResolution, target: 'es2022', lib: ['es2023'], types: ['@cloudflare/workers-types'], strict: true, skipLibCheck: false, noEmit: true },
        files: ['index.ts'],
      }),
    )
    const checked = await run('tsc', ['-p', tsconfig])
    expect(checked.stdout + checked.stderr).toBe('')
    expect(checked.status).toBe(0)
  })
})
