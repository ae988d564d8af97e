import * as v from 'valibot'
import { ApiClient } from './api-client.js'

/** Functions and containers: two products with the same shapes under different paths. */
export type ServerlessProduct = 'functions' | 'containers'

export const NamespaceSchema = v.object({
  id: v.string(),
  name: v.string(),
  organization_id: v.string(),
  project_id: v.string(),
  region: v.optional(v.string(), ''),
})
export type Namespace = v.InferOutput<typeof NamespaceSchema>

export const ResourceSchema = v.object({
  id: v.string(),
  name: v.string(),
  namespace_id: v.string(),
  privacy: v.optional(v.string(), 'unknown_privacy'),
  domain_name: v.optional(v.string(), ''),
  region: v.optional(v.string(), ''),
})
export type ServerlessResource = v.InferOutput<typeof ResourceSchema>

export const TokenSchema = v.object({
  id: v.string(),
  token: v.nullish(v.string()),
  function_id: v.nullish(v.string()),
  container_id: v.nullish(v.string()),
  namespace_id: v.nullish(v.string()),
  public_key: v.nullish(v.string()),
  status: v.optional(v.string(), 'ready'),
  description: v.nullish(v.string()),
  expires_at: v.nullish(v.string()),
})
export type LegacyToken = v.InferOutput<typeof TokenSchema>

/** The serverless v1beta1 calls the gateway makes, for one region. */
export class ServerlessApi {
  constructor(
    private readonly client: ApiClient,
    readonly region: string,
  ) {
    if (!/^[a-z]{2}-[a-z]{3}$/.test(region)) throw new TypeError(`ServerlessApi: "${region}" is not a region like fr-par`)
  }

  #base(product: ServerlessProduct): string {
    return `/${product}/v1beta1/regions/${this.region}`
  }

  listNamespaces(product: ServerlessProduct, organizationId: string): Promise<Namespace[]> {
    return this.client.list(`${this.#base(product)}/namespaces`, 'namespaces', NamespaceSchema, { organization_id: organizationId })
  }
  listResources(product: ServerlessProduct, organizationId: string): Promise<ServerlessResource[]> {
    return this.client.list(`${this.#base(product)}/${product}`, product, ResourceSchema, { organization_id: organizationId })
  }
  listTokens(product: ServerlessProduct, namespaceId: string): Promise<LegacyToken[]> {
    return this.client.list(`${this.#base(product)}/tokens`, 'tokens', TokenSchema, { namespace_id: namespaceId })
  }
  /** Mints a legacy token; the response is the only time the token and the namespace public key are returned. */
  createToken(product: ServerlessProduct, request: { namespace_id?: string; function_id?: string; container_id?: string; description?: string; expires_at?: string }) {
    return this.client.call('POST', `${this.#base(product)}/tokens`, TokenSchema, request)
  }
}
