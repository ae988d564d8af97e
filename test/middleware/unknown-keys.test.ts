import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import { edgeAuth, staticKeySet, type KeySetSource, type KeySetStore, type KeySetView, type Target } from '../../src/index.js'
import { apiKeyDigest } from '../../src/keyset/digest.js'
import { PROJECT, secrets, testKeySet } from '../support/fixtures.js'

const fn: Target = { url: 'https://origin.test', kind: 'function', projectId: PROJECT, privacy: 'private' }

let source: KeySetSource
beforeAll(async () => {
  source = await testKeySet('https://origin.test')
})

/** A store that serves `current` (switchable: a new snapshot) and counts API-key lookups. */
function switchable(first: KeySetStore) {
  const state = { store: first, lookups: 0 }
  const store: KeySetStore = {
    current: async (ctx) => {
      const view = await state.store.current(ctx)
      return { ...view, findApiKey: (digest: string) => (state.lookups++, view.findApiKey(digest)) } as KeySetView
    },
  }
  return { store, state }
}

describe('unknown API keys', () => {
  it('a key the snapshot does not hold is refused again without another lookup, and accepted once a new snapshot holds it', async () => {
    const { store, state } = switchable(staticKeySet(source))
    const app = new Hono()
    app.use('/fn/*', edgeAuth({ keySet: store, target: fn }))
    app.get('/fn/x', (c) => c.text('in'))
    const call = () => app.request('/fn/x', { headers: { 'x-auth-token': secrets.unknown } })

    for (let i = 0; i < 3; i++) {
      const res = await call()
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="edge-auth-gateway", error="invalid_token", error_description="The API key is not known."')
      expect(await res.json()).toMatchObject({ code: 'api_key_unknown' })
    }
    expect(state.lookups).toBe(1)

    // The next snapshot holds the key (as the grant of the functions key): it is looked up again, and accepted.
    const functionsRecord = source.apiKeys[await apiKeyDigest(secrets.functions)]!
    state.store = staticKeySet({ ...source, apiKeys: { ...source.apiKeys, [await apiKeyDigest(secrets.unknown)]: { ...functionsRecord, accessKey: 'SCW0UNKNOWNNOWKNOWN1' } } })
    const res = await call()
    expect(res.status).toBe(200)
    expect(state.lookups).toBe(2)
  })
})
