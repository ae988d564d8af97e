/** Helpers of the migration rehearsal: an origin that records what reaches it, and client loops. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A recording origin in front of the emulator's platform: every request that
 * reaches it is counted by path, then forwarded, so a route pointed here proves
 * whether the gateway let a call through.
 */
export interface RecordingOrigin {
  url: string
  /** Requests that reached the origin, by `<path> <X-Credential-Identifier the gateway forwarded>`. */
  reached: Map<string, number>
  close(): Promise<void>
}

/** Starts a recording origin on 127.0.0.1, port 0, forwarding to `upstream`. */
export async function startRecordingOrigin(upstream: string): Promise<RecordingOrigin> {
  const reached = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://origin').pathname
    const at = `${path} ${String(req.headers['x-credential-identifier'] ?? '-')}`
    reached.set(at, (reached.get(at) ?? 0) + 1)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value
    fetch(`${upstream}${req.url}`, { method: req.method, headers })
      .then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
        res.end(Buffer.from(await answer.arrayBuffer()))
      })
      .catch(() => {
        res.writeHead(502)
        res.end()
      })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, reached, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** One call a client made. */
export interface ClientCall {
  credential: 'legacy' | 'key'
  sentAt: number
  receivedAt: number
  status: number
  code: string | null
}

/** A client of the rehearsal: calls its path in a loop with its legacy token, then with its new key once it has one. */
export interface RehearsalClient {
  index: number
  tokenId: string
  token: string
  path: string
  userAgent: string
  key?: string
  calls: ClientCall[]
}

/** Runs every client's loop until `stop()`; each waits `intervalMs` between calls. */
export function runClients(gatewayUrl: string, clients: readonly RehearsalClient[], intervalMs: number): { stop(): Promise<void> } {
  let running = true
  const loops = clients.map(async (client) => {
    while (running) {
      const credential = client.key ? 'key' : 'legacy'
      const sentAt = Date.now()
      let status = 0
      let code: string | null = null
      try {
        const res = await fetch(`${gatewayUrl}${client.path}`, { headers: { 'x-auth-token': client.key ?? client.token, 'user-agent': client.userAgent } })
        status = res.status
        const text = await res.text()
        if (status >= 400) code = (JSON.parse(text) as { code?: string }).code ?? null
      } catch (error) {
        // A network failure: status 0, a failed request; the code says what broke.
        const cause = (error as { cause?: { code?: string; message?: string } }).cause
        code = cause?.code ?? cause?.message ?? String(error)
      }
      client.calls.push({ credential, sentAt, receivedAt: Date.now(), status, code })
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}
