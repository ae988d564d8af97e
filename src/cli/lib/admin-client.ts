/**
 * The gateway's admin API over HTTP (what every command but `migrate plan|apply|finish`, which also call Scaleway, talks to). Answers
 * that are not 2xx become a {@link GatewayError} with the problem's `code` and
 * `detail` (RFC 9457); the admin token never appears in an error.
 */
import { GatewayError } from './errors.js'

/** Where the admin API lives under the gateway's URL. */
export const ADMIN_PATH = '/__edgegw/admin/v1'

/** Options of {@link AdminClient}. */
export interface AdminClientOptions {
  /** The gateway's base URL (`http://127.0.0.1:8787`), or the admin API's own URL. */
  url: string
  /** Sent as `X-Auth-Token`: `ADMIN_TOKEN`, or an IAM API key secret with `IAMManager`. */
  token: string
  /** Milliseconds one call may take. Default 120000 (a sync of a large organisation). */
  timeoutMs?: number
  fetch?: typeof fetch
}

/** A successful answer. */
export interface AdminResponse<T> {
  status: number
  body: T
  headers: Headers
}

/** What a call sends besides its method and path. */
export interface CallOptions {
  body?: unknown
  query?: Record<string, string | number | undefined>
  headers?: Record<string, string>
}

/** A client of the admin API. */
export class AdminClient {
  readonly #base: string
  readonly #token: string
  readonly #timeoutMs: number
  readonly #fetch: typeof fetch

  constructor(options: AdminClientOptions) {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      throw new TypeError(`not a URL: ${JSON.stringify(safeUrl(options.url))}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${safeUrl(options.url)}`)
    const path = url.pathname.replace(/\/+$/, '')
    this.#base = `${url.origin}${path.endsWith(ADMIN_PATH) ? path : `${path}${ADMIN_PATH}`}`
    this.#token = options.token
    this.#timeoutMs = options.timeoutMs ?? 120_000
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
  }

  /** The gateway's base URL, where routes are served (no credentials). */
  get gatewayUrl(): string {
    return this.#base.slice(0, -ADMIN_PATH.length)
  }

  /** The admin API's URL, as shown to people (no credentials). */
  get adminUrl(): string {
    return this.#base
  }

  /**
   * One call. A JSON body is sent as `application/json`; the answer's JSON is returned (`null` for 204).
   * @throws {GatewayError} for a non-2xx answer (the problem's code and detail), an unreachable gateway (`unreachable`, status 0) or a body that is not JSON (`invalid_response`).
   */
  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<AdminResponse<T>> {
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, String(value))
    const url = `${this.#base}${path}${query.size > 0 ? `?${query}` : ''}`
    let res: Response
    try {
      res = await this.#fetch(url, {
        method,
        headers: {
          'x-auth-token': this.#token,
          accept: 'application/json, application/problem+json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      const inner = (error as { cause?: { code?: string; message?: string } }).cause
      const cause = inner?.code ?? inner?.message ?? (error as Error).name
      const why = cause === 'TimeoutError' ? `no answer within ${this.#timeoutMs / 1000} s` : cause
      throw new GatewayError(0, 'unreachable', `cannot reach the admin API at ${safeUrl(this.#base)} (${why}); check --url / EDGEGW_URL`)
    }
    const text = await res.text()
    if (!res.ok) throw problemOf(res, text)
    if (res.status === 204 || text === '') return { status: res.status, body: null as T, headers: res.headers }
    try {
      return { status: res.status, body: JSON.parse(text) as T, headers: res.headers }
    } catch {
      throw new GatewayError(res.status, 'invalid_response', `${method} ${path} answered ${res.status} with a body that is not JSON; is ${safeUrl(this.#base)} an edge-auth-gateway?`)
    }
  }
}

/** The problem an error answer carries, or a description of the answer when it has none. */
function problemOf(res: Response, text: string): GatewayError {
  let code = `http_${res.status}`
  let detail = res.statusText || 'the gateway refused the request'
  let body: { code?: unknown; detail?: unknown; title?: unknown } | undefined
  try {
    body = JSON.parse(text) as { code?: unknown; detail?: unknown; title?: unknown }
    if (typeof body.code === 'string') code = body.code
    else if (typeof body.title === 'string') code = body.title
    if (typeof body.detail === 'string') detail = body.detail
  } catch {
    // Not a problem document (a proxy's HTML page…): the status says enough.
  }
  if (res.status === 401) detail += '; check the admin token (--token, EDGEGW_ADMIN_TOKEN or SCW_SECRET_KEY)'
  if (res.status === 403) detail += '; an IAM key needs IAMManager on the organisation'
  return new GatewayError(res.status, code, detail, body)
}

/** A URL without user information, query or fragment, to show in messages. */
export function safeUrl(text: string): string {
  try {
    const url = new URL(text)
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  } catch {
    return '<invalid URL>'
  }
}
