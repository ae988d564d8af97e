import * as v from 'valibot'
import { ApiCallError } from './api-error.js'

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Base URL of the API, e.g. `https://api.scaleway.com` or the local emulator. */
  baseUrl: string
  /** The secret sent as `X-Auth-Token`. */
  token: string
  /** Milliseconds one attempt may take, headers and body. Default 10000. */
  timeoutMs?: number
  /** Attempts per call on 429, 5xx, timeouts and network errors. Default 4. */
  attempts?: number
  /** First backoff in milliseconds, doubled each retry, with jitter; `Retry-After` wins when larger. Default 250. */
  backoffMs?: number
  /** Items per page, 1–100 (the API's bound). Default 100. */
  pageSize?: number
  fetch?: typeof fetch
  /** How to wait between retries (tests pass a fast one). Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * A small client for Scaleway-shaped JSON APIs: `X-Auth-Token` authentication,
 * `page`/`page_size`/`total_count` pagination, retries with exponential backoff
 * on 429 and 5xx, a timeout per attempt, and every response checked with a schema.
 * Redirects are followed only within the API's origin: the token is never sent
 * anywhere else.
 *
 * @throws {TypeError} from the constructor for a bad option.
 */
export class ApiClient {
  readonly #base: string
  readonly #token: string
  readonly #timeoutMs: number
  readonly #attempts: number
  readonly #backoffMs: number
  readonly #pageSize: number
  readonly #fetch: typeof fetch
  readonly #sleep: (ms: number) => Promise<void>

  constructor(options: ApiClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl ?? '')) throw new TypeError('ApiClient: baseUrl must be an http(s) URL')
    if (!options.token) throw new TypeError('ApiClient: token is required')
    this.#base = options.baseUrl.replace(/\/+$/, '')
    this.#token = options.token
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#attempts = options.attempts ?? 4
    this.#backoffMs = options.backoffMs ?? 250
    this.#pageSize = options.pageSize ?? 100
    if (!Number.isInteger(this.#pageSize) || this.#pageSize < 1 || this.#pageSize > 100) throw new TypeError('ApiClient: pageSize must be 1–100')
    if (!Number.isInteger(this.#attempts) || this.#attempts < 1) throw new TypeError('ApiClient: attempts must be at least 1')
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
    this.#sleep = options.sleep ?? defaultSleep
  }

  /**
   * One call, retried on 429, 5xx, timeouts and network errors; the body is checked against `schema`.
   * @throws {ApiCallError} naming the call once every attempt has failed, or at once for another 4xx or a body that does not fit.
   */
  async call<S extends v.GenericSchema>(method: string, path: string, schema: S, body?: unknown): Promise<v.InferOutput<S>> {
    const call = `${method} ${path}`
    let lastError: ApiCallError | undefined
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      let retryAfterMs = 0
      try {
        return await this.#once(method, path, schema, body, call)
      } catch (error) {
        if (!(error instanceof ApiCallError) || !isRetryable(error)) throw error
        lastError = error
        retryAfterMs = (error.cause as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0
      }
      if (attempt < this.#attempts) {
        const backoff = this.#backoffMs * 2 ** (attempt - 1)
        await this.#sleep(Math.max(retryAfterMs, backoff / 2 + Math.random() * (backoff / 2)))
      }
    }
    throw new ApiCallError(lastError!.kind, call, `${lastError!.message.slice(call.length + 2)} (after ${this.#attempts} attempts)`, lastError!.status, { cause: lastError })
  }

  /**
   * Every item of a paginated list: pages of `pageSize` until `total_count` items are read.
   * @param field The list's field in the response (`api_keys`, `policies`…).
   */
  async list<S extends v.GenericSchema>(path: string, field: string, item: S, query: Record<string, string | undefined> = {}): Promise<v.InferOutput<S>[]> {
    const items: v.InferOutput<S>[] = []
    for (let page = 1; ; page++) {
      const { items: batch, total, last } = await this.page(path, field, item, query, page)
      items.push(...batch)
      if (last || items.length >= total) return items
    }
  }

  /**
   * One page of a paginated list (1-based), with the list's `total_count`; `last`
   * when no page follows (this one is short or empty, or reaches the total).
   */
  async page<S extends v.GenericSchema>(path: string, field: string, item: S, query: Record<string, string | undefined>, page: number): Promise<{ items: v.InferOutput<S>[]; total: number; last: boolean }> {
    const pageSchema = v.object({ total_count: v.pipe(v.number(), v.integer(), v.minValue(0)), [field]: v.array(item) })
    const params = new URLSearchParams({ page: String(page), page_size: String(this.#pageSize) })
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value)
    const response = (await this.call('GET', `${path}?${params}`, pageSchema)) as { total_count: number } & Record<string, v.InferOutput<S>[]>
    const items = response[field] ?? []
    return { items, total: response.total_count, last: items.length < this.#pageSize || page * this.#pageSize >= response.total_count }
  }

  /** Attempts per call (a call may cost this many subrequests). */
  get attempts(): number {
    return this.#attempts
  }

  async #once<S extends v.GenericSchema>(method: string, path: string, schema: S, body: unknown, call: string): Promise<v.InferOutput<S>> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs)
    try {
      const res = await this.#fetchFollowingSameOrigin(method, `${this.#base}${path}`, body, call, controller)
      let text: string
      try {
        text = await res.text()
      } catch (cause) {
        if (controller.signal.aborted) throw new ApiCallError('timeout', call, `body not received within ${this.#timeoutMs} ms`, res.status, { cause })
        throw new ApiCallError('network', call, 'connection lost while reading the body', res.status, { cause })
      }
      if (!res.ok) {
        const retryAfter = Number(res.headers.get('retry-after'))
        throw new ApiCallError('http', call, `HTTP ${res.status}${apiMessage(text)}`, res.status, {
          cause: { retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : 0 },
        })
      }
      if (res.status === 204 || text === '') return v.parse(schema, {})
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        throw new ApiCallError('invalid_response', call, `HTTP ${res.status} with a body that is not JSON`, res.status)
      }
      const parsed = v.safeParse(schema, json)
      if (!parsed.success) throw new ApiCallError('invalid_response', call, `unexpected response shape: ${v.summarize(parsed.issues).slice(0, 300)}`, res.status)
      return parsed.output
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * One request, redirects handled by hand (`redirect: 'manual'`): the platform's
   * fetch would re-send `X-Auth-Token` to wherever a `Location` points. A redirect
   * is followed only within the API's origin (scheme, host and port), at most
   * {@link MAX_REDIRECTS} times, and a write only with 307 or 308 (which keep the
   * method and body); anything else is an {@link ApiCallError} of kind `redirect`.
   */
  async #fetchFollowingSameOrigin(method: string, firstUrl: string, body: unknown, call: string, controller: AbortController): Promise<Response> {
    const origin = new URL(firstUrl).origin
    let url = firstUrl
    for (let hop = 0; ; hop++) {
      let res: Response
      try {
        res = await this.#fetch(url, {
          method,
          headers: { 'x-auth-token': this.#token, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          redirect: 'manual',
          signal: controller.signal,
        })
      } catch (cause) {
        if (controller.signal.aborted) throw new ApiCallError('timeout', call, `no answer within ${this.#timeoutMs} ms`, undefined, { cause })
        throw new ApiCallError('network', call, `network error: ${cause instanceof Error ? cause.message : String(cause)}`, undefined, { cause })
      }
      if (!REDIRECT_STATUSES.has(res.status)) return res
      // The redirect's body is not needed; release the connection.
      await res.body?.cancel().catch(() => undefined)
      const location = res.headers.get('location')
      let next: URL | undefined
      try {
        next = location === null ? undefined : new URL(location, url)
      } catch {
        next = undefined
      }
      if (!next) throw new ApiCallError('redirect', call, `HTTP ${res.status} redirect without a usable Location: not followed`, res.status)
      if (next.origin !== origin) throw new ApiCallError('redirect', call, `HTTP ${res.status} redirect to another origin (${next.origin}): not followed`, res.status)
      if (method !== 'GET' && method !== 'HEAD' && res.status !== 307 && res.status !== 308) {
        throw new ApiCallError('redirect', call, `HTTP ${res.status} redirect of a ${method}: not followed (only 307 and 308 keep the method)`, res.status)
      }
      if (hop >= MAX_REDIRECTS) throw new ApiCallError('redirect', call, `more than ${MAX_REDIRECTS} redirects: not followed`, res.status)
      url = next.href
    }
  }
}

/** Redirects followed within the API origin, at most. */
const MAX_REDIRECTS = 3
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

function isRetryable(error: ApiCallError): boolean {
  if (error.kind === 'timeout' || error.kind === 'network') return true
  return error.kind === 'http' && (error.status === 429 || (error.status ?? 0) >= 500)
}

/** The platform's error `message`, when the body has one (short; never a secret: error bodies carry none). */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; type?: unknown }
    const parts = [body.type, body.message].filter((p): p is string => typeof p === 'string')
    return parts.length > 0 ? ` (${parts.join(': ').slice(0, 200)})` : ''
  } catch {
    return ''
  }
}
