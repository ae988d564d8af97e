import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
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
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
  },
})
