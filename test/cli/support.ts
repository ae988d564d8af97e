/** Runs `edgegw` in-process with captured output, and a small HTTP peer playing the admin API. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { main } from '../../src/cli/main.js'
import type { Io } from '../../src/cli/lib/output.js'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs one command line; `env` replaces the environment entirely. */
export async function run(argv: string[], options: { env?: Record<string, string>; stdin?: string; stderrIsTTY?: boolean; now?: number } = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as unknown as Io['stdin']
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.stderrIsTTY ?? false },
    stdin,
    env: options.env ?? {},
    now: () => options.now ?? Date.parse('2026-11-22T12:00:00Z'),
  }
  const code = await main(argv, io)
  return { code, stdout, stderr }
}

/** A request the peer received. */
export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** An HTTP server on 127.0.0.1:0 answering with `handler`; records every request. */
export async function adminPeer(handler: (req: Received, res: ServerResponse) => void): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      received.push(entry)
      handler(entry, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Answers JSON. */
export function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type })
  res.end(JSON.stringify(body))
}
