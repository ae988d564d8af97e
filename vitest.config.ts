import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/** The organisation the emulator of the `flow` project serves (test/support/emulator-global-setup.ts). */
const FLOW_ORGANIZATION_ID = '7a1e0c55-2f4b-4d1a-9c3e-5b6d7e8f9a01'

/**
 * The bindings of the gateway Worker run against the IAM emulator that
 * test/support/emulator-global-setup.ts starts (the `flow` and `scale` projects).
 */
function againstEmulator(inject: (key: 'emulatorUrl' | 'emulatorAdminSecret') => string): Record<string, string> {
  return {
    IAM_API_URL: inject('emulatorUrl'),
    IAM_API_TOKEN: inject('emulatorAdminSecret'),
    SCW_ORGANIZATION_ID: FLOW_ORGANIZATION_ID,
    IAM_API_ATTEMPTS: '2',
    ORIGIN_AUTH_TOKEN: 'test-origin-credential-0f3c',
    ADMIN_TOKEN: 'test-admin-bootstrap-token-5d2a',
    ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true',
    EMULATOR_URL: inject('emulatorUrl'),
    EMULATOR_ADMIN_SECRET: inject('emulatorAdminSecret'),
  }
}

/**
 * workerd's own diagnostics that the Workers pool writes straight to stderr: a test
 * runner's WebSocket closing at the end of each file, the refused connections and
 * lost origins that tests provoke on purpose, a WebCrypto probe, and the native
 * stack addresses that follow them. None is a test result (a failing test is
 * reported by vitest itself); they are hidden so that a real failure stands out.
 * `EDGEGW_WORKERD_LOGS=1 npm test` shows them.
 */
const WORKERD_NOISE: readonly RegExp[] = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected/,
  /^exception = kj\/async-io-unix\.c\+\+:\d+: disconnected: connect\(\): Connection refused/,
  /^uncaught exception; .*Network connection lost\.$/,
  /^e = workerd\/api\/crypto\/ec\.c\+\+:\d+: .*OPERATION_NOT_SUPPORTED_FOR_THIS_KEYTYPE/,
  /^stack: \S*workerd@[0-9a-f]+( |;|$)/,
]

function hideWorkerdNoise(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined
    if (text === undefined) return write(chunk, ...rest)
    const kept = text.split('\n').filter((line) => !WORKERD_NOISE.some((noise) => noise.test(line.trim())))
    if (kept.join('').trim() !== '') return write(kept.join('\n'), ...rest)
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }) as NodeJS.WriteStream['write']
}

if (process.env.EDGEGW_WORKERD_LOGS !== '1') {
  hideWorkerdNoise(process.stderr)
  hideWorkerdNoise(process.stdout)
}

/**
 * Test projects:
 * - `workers`: unit and end-to-end tests of the gateway, inside workerd, with real KV
 *   and real HTTP to demo origins started by the global setup.
 * - `stack`: the local stack as `npm start` runs it (several workerd processes on
 *   127.0.0.1), driven over HTTP from Node, and the `edgegw` CLI run against it.
 * - `package`: the package as a user gets it: built once (`npm run build`), its
 *   `npm pack` contents and type resolution, the examples/ projects type-checked,
 *   built and run (Node on port 0, the Worker in Miniflare), the README's snippets
 *   against them, and `npm run check-config`.
 * - `cli`: the CLI's formatting, durations and options, in Node.
 * - `flow`: the sync Workflow and the key-set owner against the IAM emulator, at a
 *   few thousand keys, with a small subrequest budget per step (many steps).
 * - `scale`: the sync Workflow at 100,000 keys with the production step budget (`npm run scale`).
 * - `emulator`: the Scaleway IAM + serverless API emulator.
 */
export default defineConfig({
  test: {
    // Console output of passing tests (the gateway's access-log lines) is not shown; a failing test's is.
    silent: 'passed-only',
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/worker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ORIGIN_AUTH_TOKEN: 'test-origin-credential-0f3c',
                ORIGIN_TIMEOUT_MS: '1500',
                ORIGINS_URL: inject('originsUrl'),
                CLOSED_ORIGIN_URL: inject('closedOriginUrl'),
                SCRIPTED_API_URL: inject('scriptedApiUrl'),
                ADMIN_TOKEN: 'test-admin-bootstrap-token-5d2a',
                CREDENTIAL_ENCRYPTION_KEY: 'test-credential-encryption-key-8b41e0c27f',
                JWKS_SERVER_URL: inject('jwksServerUrl'),
                OIDC_JWKS_TIMEOUT_MS: '1000',
                // The test origins are http://127.0.0.1 (private targets must otherwise be https://).
                ALLOW_INSECURE_LOOPBACK_ORIGINS: 'true',
                EMULATOR_URL: inject('emulatorUrl'),
                EMULATOR_ADMIN_SECRET: inject('emulatorAdminSecret'),
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          globalSetup: ['./test/support/global-setup.ts', './test/support/jwks-global-setup.ts', './test/support/emulator-global-setup.ts'],
          include: ['test/{http,util,middleware,keyset,proxy,authz,credentials,sync,admin,worker,e2e,usage}/**/*.test.ts'],
          // Every admin change waits for a run of the sync Workflow, and the key-set owner writes
          // the manifest at most once a second (KV's limit per key): a test of several changes takes seconds.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'stack',
          environment: 'node',
          include: ['test/stack/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'package',
          environment: 'node',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['./test/package/build-package.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
      {
        // The edgegw CLI's own pieces (formatting, durations, options), in Node; the CLI
        // against a running gateway is in test/stack.
        test: {
          name: 'cli',
          environment: 'node',
          include: ['test/cli/**/*.test.ts'],
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/worker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...againstEmulator(inject),
                // A small budget: a few thousand keys take several steps of each kind.
                SYNC_STEP_SUBREQUESTS: '24',
                SYNC_LOG_STEPS: 'true',
                SYNC_WAIT_SECONDS: '120',
              },
            },
          })),
        ],
        test: {
          name: 'flow',
          globalSetup: ['./test/support/emulator-global-setup.ts'],
          include: ['test/flow/**/*.test.ts'],
          // One emulator for the project: its files run one after the other.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The sync Workflow at 100,000 keys (SCALE_KEYS), with the production budget of
        // wrangler.toml (SYNC_STEP_SUBREQUESTS 400): docs/scale.md, `npm run scale`.
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/worker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...againstEmulator(inject),
                SYNC_LOG_STEPS: 'true',
                SYNC_WAIT_SECONDS: '600',
                SCALE_KEYS: process.env.SCALE_KEYS ?? '100000',
              },
            },
          })),
        ],
        test: {
          name: 'scale',
          globalSetup: ['./test/support/emulator-global-setup.ts'],
          include: ['test/scale/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
      {
        // The Scaleway IAM + serverless API emulator (docs/emulator.md), as its own Worker.
        plugins: [
          cloudflareTest({
            main: './src/emulator/worker.ts',
            wrangler: { configPath: './src/emulator/wrangler.toml' },
            miniflare: {
              bindings: {
                EMULATOR_ADMIN_SECRET: 'test-emulator-admin-secret-7c1e',
                // Faster key generation in tests; the default (4096) is the platform's size.
                EMULATOR_RSA_MODULUS_BITS: '2048',
              },
            },
          }),
        ],
        test: {
          name: 'emulator',
          include: ['test/emulator/**/*.test.ts'],
        },
      },
    ],
  },
})
