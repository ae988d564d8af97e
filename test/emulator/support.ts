/** Helpers for the emulator's tests: calls through the Worker, and fixtures made through the API. */
import { env, exports } from 'cloudflare:workers'
import { expect } from 'vitest'

/** The admin secret bound in vitest.config.ts. */
export const ADMIN = env.EMULATOR_ADMIN_SECRET
export const BASE = 'http://emulator.test'
export const IAM = `${BASE}/iam/v1alpha1`
export const FN = `${BASE}/functions/v1beta1/regions/fr-par`
export const CT = `${BASE}/containers/v1beta1/regions/fr-par`

/** A JSON answer. */
export interface Answer<T = Record<string, unknown>> {
  status: number
  body: T
  headers: Headers
}

/** Calls the emulator Worker with `X-Auth-Token: token` (the admin secret unless told) and a JSON body. */
export async function call<T = Record<string, unknown>>(method: string, url: string, options: { token?: string | null; body?: unknown } = {}): Promise<Answer<T>> {
  const headers = new Headers()
  const token = options.token === undefined ? ADMIN : options.token
  if (token !== null) headers.set('x-auth-token', token)
  if (options.body !== undefined) headers.set('content-type', 'application/json')
  const res = await exports.default.fetch(
    new Request(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) }),
  )
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers }
}

/** Calls and expects a status; returns the body. */
export async function ok<T = Record<string, unknown>>(method: string, url: string, options: { token?: string | null; body?: unknown; status?: number } = {}): Promise<T> {
  const answer = await call<T>(method, url, options)
  expect(answer.status, JSON.stringify(answer.body)).toBe(options.status ?? 200)
  return answer.body
}

/** The emulator's Organization and default Project. */
export async function info(): Promise<{ organization_id: string; default_project_id: string; owner_user_id: string; admin_access_key: string }> {
  return ok('GET', `${BASE}/emulator/info`)
}

let counter = 0
/** A name unique within a test file. */
export function unique(prefix: string): string {
  counter += 1
  return `${prefix}-${Date.now().toString(36)}-${counter}`
}

/** Creates an application and an API key for it; returns both. */
export async function applicationWithKey(): Promise<{ applicationId: string; accessKey: string; secret: string }> {
  const app = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: unique('app') } })
  const key = await ok<{ access_key: string; secret_key: string }>('POST', `${IAM}/api-keys`, { body: { application_id: app.id, description: 'test' } })
  return { applicationId: app.id, accessKey: key.access_key, secret: key.secret_key }
}

/** Attaches a policy with one rule to a principal. */
export async function grant(principal: { application_id?: string; user_id?: string; group_id?: string }, rule: { permission_set_names: string[]; project_ids?: string[]; organization_id?: string; condition?: string }): Promise<{ id: string }> {
  return ok('POST', `${IAM}/policies`, { body: { name: unique('policy'), ...principal, rules: [rule] } })
}
