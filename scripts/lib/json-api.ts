/**
 * A small JSON client for the local stack's own calls: the emulator's API and
 * the gateway's admin API, both authenticated with `X-Auth-Token`.
 */

/** A call that did not answer what was expected. The message names the call, never the token. */
export class ApiCallFailed extends Error {
  override readonly name = 'ApiCallFailed'
  constructor(
    readonly call: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${call} answered ${status}${describe(body)}`)
  }
}

function describe(body: unknown): string {
  if (body && typeof body === 'object') {
    const { message, detail, type, code } = body as Record<string, unknown>
    const text = [type ?? code, message ?? detail].filter((part) => typeof part === 'string').join(': ')
    if (text) return ` (${text.slice(0, 300)})`
  }
  return ''
}

/** One JSON answer. */
export interface JsonAnswer<T> {
  status: number
  body: T
}

/** A client bound to a base URL and a token. */
export interface JsonApi {
  readonly baseUrl: string
  /** Any call; the answer whatever its status. */
  send<T = unknown>(method: string, path: string, body?: unknown): Promise<JsonAnswer<T>>
  /**
   * A call that must answer 2xx.
   * @throws {ApiCallFailed} otherwise.
   */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
  /**
   * Does `GET path` find it? `true` on 200, `false` on 404.
   * @throws {ApiCallFailed} on any other status.
   */
  exists(path: string): Promise<boolean>
}

/**
 * A client for `baseUrl`, sending `token` as `X-Auth-Token`.
 *
 * @example
 * ```ts
 * const emulator = jsonApi('http://127.0.0.1:8788', adminSecret)
 * const { api_keys } = await emulator.call<{ api_keys: unknown[] }>('GET', '/iam/v1alpha1/api-keys')
 * ```
 */
export function jsonApi(baseUrl: string, token: string): JsonApi {
  const base = baseUrl.replace(/\/+$/, '')
  const send = async <T>(method: string, path: string, body?: unknown): Promise<JsonAnswer<T>> => {
    const headers: Record<string, string> = { 'x-auth-token': token, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      // Kept as text: the error names the status, and the body if it says something.
    }
    return { status: res.status, body: parsed as T }
  }
  return {
    baseUrl: base,
    send,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const answer = await send<T>(method, path, body)
      if (answer.status < 200 || answer.status > 299) throw new ApiCallFailed(`${method} ${path.split('?')[0]}`, answer.status, answer.body)
      return answer.body
    },
    async exists(path: string): Promise<boolean> {
      const answer = await send('GET', path)
      if (answer.status === 200) return true
      if (answer.status === 404) return false
      throw new ApiCallFailed(`GET ${path.split('?')[0]}`, answer.status, answer.body)
    },
  }
}
