/**
 * Type tests, checked by `npm run typecheck` (tsc fails on an unused `@ts-expect-error`):
 * the identity is typed only behind the middleware, and the KV selector only sees the
 * app's own bindings.
 */
import { Hono } from 'hono'
import { edgeAuth, kvKeySet, type EdgeAuthIdentity, type EdgeAuthVariables, type Target } from '../../src/index.js'

declare const target: Target
type Env = { Bindings: { KEYSET: KVNamespace } }

// The binding selector sees the app's Bindings: a typo does not compile.
edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target })
// @ts-expect-error TYPO is not a binding of Env
edgeAuth<Env>({ keySet: kvKeySet((env) => env.TYPO), target })
// @ts-expect-error without the app's Env, `env` is not `any`
edgeAuth({ keySet: kvKeySet((env) => env.KEYSET), target })

// A route without the middleware: no identity.
const plain = new Hono<Env>()
// @ts-expect-error edgeAuth is not a variable of an app that did not declare it
plain.get('/open', (c) => c.json(c.var.edgeAuth))

// Behind the middleware, in the same call: the identity is typed.
const auth = edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target })
plain.get('/hello/whoami', auth, (c) => {
  const identity: EdgeAuthIdentity = c.var.edgeAuth
  return c.json(identity)
})

// A sub-app whose every route is behind the middleware declares the variables.
const hello = new Hono<Env & { Variables: EdgeAuthVariables }>()
hello.use(auth)
hello.get('/whoami', (c) => c.json(c.var.edgeAuth.principal))
plain.route('/hello', hello)
