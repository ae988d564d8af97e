/**
 * The Scaleway APIs (IAM, serverless) straight from the CLI, as Scaleway's own
 * CLI reaches them: `SCW_SECRET_KEY` in `X-Auth-Token`, `SCW_API_URL` (default
 * https://api.scaleway.com; the local stack's emulator locally),
 * `SCW_DEFAULT_ORGANIZATION_ID`, `SCW_DEFAULT_REGION`. `edgegw migrate` uses it
 * for what the gateway's admin API does not do (applications, policies, listing
 * and deleting legacy tokens), so the Worker does not grow. docs/migration.md.
 */
import { GatewayError, UsageError } from './errors.js'
import { isUuid } from './options.js'
import { safeUrl } from './admin-client.js'

/** Where and as whom the Scaleway APIs are called. */
export interface ScalewaySettings {
  apiUrl: string
  secretKey: string
  organizationId: string
  region: string
}

/**
 * The settings from the environment.
 * @throws {UsageError} naming the variable that is missing or wrong.
 */
export function scalewaySettings(env: Record<string, string | undefined>): ScalewaySettings {
  const secretKey = env.SCW_SECRET_KEY
  if (!secretKey) throw new UsageError('SCW_SECRET_KEY: not set; edgegw migrate calls IAM and the serverless API with an IAM key secret (IAMManager and FunctionsFullAccess / ContainersFullAccess on the organisation), as the scw CLI does')
  const organizationId = env.SCW_DEFAULT_ORGANIZATION_ID
  if (!organizationId || !isUuid(organizationId)) throw new UsageError('SCW_DEFAULT_ORGANIZATION_ID: expected the organisation id (UUID)')
  const apiUrl = env.SCW_API_URL || 'https://api.scaleway.com'
  try {
    new URL(apiUrl)
  } catch {
    throw new UsageError('SCW_API_URL: not a URL')
  }
  return { apiUrl: apiUrl.replace(/\/+$/, ''), secretKey, organizationId, region: env.SCW_DEFAULT_REGION || 'fr-par' }
}

/** A serverless product's path segment. */
export type Product = 'functions' | 'containers'

/** A client of the Scaleway APIs. Errors are {@link GatewayError}s with Scaleway's `type` as code. */
export class ScalewayClient {
  constructor(
    readonly settings: ScalewaySettings,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** The IAM API's base path. */
  static readonly IAM = '/iam/v1alpha1'

  /** The regional base path of a serverless product. */
  serverless(product: Product): string {
    return `/${product}/v1beta1/regions/${this.settings.region}`
  }

  /** One call; the JSON answer. */
  async call<T>(method: string, path: string, body?: unknown, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value))
    const url = `${this.settings.apiUrl}${path}${search.size > 0 ? `?${search}` : ''}`
    let res: Response
    try {
      res = await this.fetcher(url, {
        method,
        headers: { 'x-auth-token': this.settings.secretKey, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      })
    } catch (error) {
      const inner = (error as { cause?: { code?: string } }).cause
      throw new GatewayError(0, 'unreachable', `cannot reach the Scaleway API at ${safeUrl(this.settings.apiUrl)} (${inner?.code ?? (error as Error).name}); check SCW_API_URL`)
    }
    const text = await res.text()
    if (!res.ok) {
      let detail = res.statusText
      let code = `scaleway_${res.status}`
      try {
        const problem = JSON.parse(text) as { type?: string; message?: string }
        if (problem.type) code = `scaleway_${problem.type}`
        if (problem.message) detail = problem.message
      } catch {
        // not JSON: the status says enough
      }
      throw new GatewayError(res.status, code, `${method} ${path}: ${detail}`)
    }
    return (text === '' ? null : JSON.parse(text)) as T
  }

  /** Every item of a paginated list (`page`, `page_size`, `total_count`). */
  async list<T>(path: string, field: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
    const items: T[] = []
    for (let page = 1; ; page++) {
      const body = await this.call<Record<string, unknown> & { total_count: number }>('GET', path, undefined, { ...query, page, page_size: 100 })
      const batch = (body[field] as T[] | undefined) ?? []
      items.push(...batch)
      if (batch.length === 0 || items.length >= body.total_count) return items
    }
  }
}
