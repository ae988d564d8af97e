/**
 * Builds an OpenAPI 3.1 document from operations whose bodies, queries and
 * answers are valibot schemas, converted with `@valibot/to-json-schema` (JSON
 * Schema 2020-12, OpenAPI 3.1's dialect). The admin API's operations are in
 * openapi-operations.ts.
 */
import { toJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'

/** One operation of the admin API. */
export interface AdminOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI path, `{param}` style, under the admin prefix. */
  path: string
  summary: string
  body?: v.GenericSchema
  /** Query parameters: the entries of an object schema, each optional unless `required` lists it. */
  query?: { schema: v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined> | v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue> | undefined>; required?: string[] }
  /** Status → description and the answer's schema (none: no body). */
  responses: Record<number, { description: string; schema?: v.GenericSchema; etag?: boolean; noStore?: boolean }>
  /** `If-Match` is honoured. */
  ifMatch?: boolean
}

/** Every refusal and failure of the admin API (RFC 9457), as `problem()` in admin-http.ts writes it. */
export const ProblemSchema = v.object({
  type: v.string(),
  title: v.string(),
  status: v.number(),
  code: v.pipe(v.string(), v.description('stable machine code, e.g. consumer_not_found')),
  detail: v.pipe(v.string(), v.description('names the field at fault; never a secret')),
  request_id: v.string(),
})

/**
 * JSON Schema of a valibot schema, as OpenAPI 3.1 (JSON Schema 2020-12) takes it.
 * Checks without a JSON Schema form (`v.check`, transforms) are left out: the
 * description says less than the admin API checks, never more.
 */
export function jsonSchema(schema: v.GenericSchema, typeMode: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    errorMode: 'ignore',
    typeMode,
    // A JSON Schema `pattern` has no flags: a case-insensitive regex (ids, UUIDs) would
    // describe fewer values than are accepted, so its pattern is left out.
    overrideAction: ({ valibotAction, jsonSchema: converted }) => {
      const requirement = (valibotAction as { requirement?: unknown }).requirement
      if (valibotAction.type !== 'regex' || !(requirement instanceof RegExp) || !requirement.flags.includes('i')) return undefined
      const { pattern: __, ...withoutPattern } = converted as Record<string, unknown>
      return withoutPattern
    },
  }) as Record<string, unknown>
  return rest
}

/**
 * Builds the document for `operations`.
 * @param serverUrl The admin API's own URL (`…/__edgegw/admin/v1`), the document's one server.
 */
export function buildOpenApi(operations: readonly AdminOperation[], info: { version: string; serverUrl: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations) {
    const parameters = [
      ...[...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.query?.schema.entries ?? {}).map(([name, schema]) => ({ name, in: 'query', required: op.query?.required?.includes(name) ?? false, schema: jsonSchema(schema.type === 'optional' ? (schema as v.OptionalSchema<v.GenericSchema, unknown>).wrapped : schema, 'input') })),
      ...(op.ifMatch ? [{ name: 'If-Match', in: 'header', required: false, description: 'the ETag the resource had when read: the change is refused (412 precondition_failed) if it has changed since', schema: { type: 'string' } }] : []),
    ]
    const responses: Record<string, unknown> = {}
    for (const [status, response] of Object.entries(op.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.etag || response.noStore
          ? {
              headers: {
                ...(response.etag ? { ETag: { description: 'the version of what was answered, for If-Match', schema: { type: 'string' } } } : {}),
                ...(response.noStore ? { 'Cache-Control': { description: 'no-store: the answer carries a secret, shown this once', schema: { const: 'no-store' } } } : {}),
              },
            }
          : {}),
        ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } } : {}),
      }
    }
    responses.default = { description: 'a refusal or a failure (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }
    paths[op.path] ??= {}
    paths[op.path]![op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'edge-auth-gateway admin API',
      version: info.version,
      description: 'Routes, consumers and their JWT credentials, OIDC issuers, IAM API keys and the key set (docs/consumers.md, docs/cli.md). Every answer is JSON; every refusal application/problem+json.',
    },
    servers: [{ url: info.serverUrl }],
    security: [{ adminToken: [] }, { bearer: [] }],
    paths,
    components: {
      schemas: { Problem: jsonSchema(ProblemSchema, 'output') },
      securitySchemes: {
        adminToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: "the ADMIN_TOKEN secret, or an IAM API key secret whose bearer holds IAMManager on the organisation" },
        bearer: { type: 'http', scheme: 'bearer', description: 'the same credential as Authorization: Bearer' },
      },
    },
  }
}
