import { Hono } from 'hono'
import { edgeAuth, kvKeySet, syncKeySet, type EdgeAuthVariables, type Target } from 'edge-auth-gateway'

type Bindings = {
  /** The key set: written by syncKeySet below, read by kvKeySet. */
  KEYSET: KVNamespace
  IAM_API_URL: string
  SCW_ORGANIZATION_ID: string
  /** Secret: an IAM API key that may read IAM and the serverless API of the organisation. */
  IAM_API_TOKEN: string
}
type Env = { Bindings: Bindings }

// What a caller must be allowed to invoke: FunctionsPrivateAccess on this project.
const target: Target = {
  url: 'https://myns-hello.functions.fnc.fr-par.scw.cloud',
  kind: 'function',
  projectId: '2bbb09a6-9600-44d8-bde8-a88e3a03a2f2',
  privacy: 'private',
}

// Every route of `hello` is behind edgeAuth: c.var.edgeAuth is typed there, and only there.
const hello = new Hono<Env & { Variables: EdgeAuthVariables }>()
hello.use(edgeAuth<Env>({ keySet: kvKeySet((env) => env.KEYSET), target }))
hello.get('/whoami', (c) => c.json(c.var.edgeAuth)) // { method, credentialId, principal, organizationId, keyKind }

const app = new Hono<Env>()
app.get('/', (c) => c.text('public\n'))
app.route('/hello', hello)

export default {
  fetch: app.fetch,
  // The Cron Trigger keeps KEYSET in step with IAM. Until its first run, /hello answers 503.
  async scheduled(_controller, env) {
    const outcome = await syncKeySet({
      kv: env.KEYSET,
      iam: { token: env.IAM_API_TOKEN, organizationId: env.SCW_ORGANIZATION_ID, apiUrl: env.IAM_API_URL },
    })
    console.log(JSON.stringify({ event: 'sync', ok: outcome.ok, counts: outcome.status.counts, error: outcome.status.lastError?.message ?? null }))
    if (!outcome.ok) throw new Error('sync failed: the last good key set keeps serving')
  },
} satisfies ExportedHandler<Bindings>
