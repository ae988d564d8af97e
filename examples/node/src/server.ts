import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { edgeAuth, staticKeySet, type EdgeAuthVariables, type KeySetSource, type Target } from 'edge-auth-gateway'

// A key-set snapshot from a file; staticKeySet checks it once, here.
const snapshot = JSON.parse(readFileSync(process.env.KEYSET_FILE ?? new URL('../keyset.json', import.meta.url), 'utf8')) as KeySetSource

const target: Target = {
  url: 'https://myns-hello.functions.fnc.fr-par.scw.cloud',
  kind: 'function',
  projectId: '2bbb09a6-9600-44d8-bde8-a88e3a03a2f2',
  privacy: 'private',
}

// Every route of `hello` is behind edgeAuth: c.var.edgeAuth is typed there, and only there.
const hello = new Hono<{ Variables: EdgeAuthVariables }>()
hello.use(edgeAuth({ keySet: staticKeySet(snapshot), target }))
hello.get('/whoami', (c) => c.json(c.var.edgeAuth))

const app = new Hono()
app.get('/', (c) => c.text('public\n'))
app.route('/hello', hello)

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`)
}) as Server

// Ctrl-C or SIGTERM: finish the requests in flight, close idle connections, exit.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)).closeIdleConnections())
