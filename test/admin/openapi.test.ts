import { env } from 'cloudflare:workers'
import * as v from 'valibot'
import { beforeEach, describe, expect, it } from 'vitest'
import { adminApi } from '../../src/admin/admin-api.js'
import { ConsumerAnswerSchema, CredentialAnswerSchema } from '../../src/admin/openapi-operations.js'
import { Registry } from '../../src/sync/registry.js'
import { ADMIN_PATH, admin, adminJson, clearKv, settled } from '../support/admin-api.js'

// The OpenAPI description (GET /openapi.json) is generated from the schemas; it is
// validated by an OpenAPI validator in test/stack/cli.test.ts (ajv needs eval, which
// workerd forbids).

beforeEach(async () => {
  await settled()
  await clearKv()
})

/** Every `METHOD /path` the admin app answers, in OpenAPI's `{param}` style. */
function registeredOperations(): string[] {
  const app = adminApi(
    () => ({ kv: env.KEYSET, registry: new Registry(env.KEYSET) }) as never,
    { auth: async (_c, next) => next() },
  )
  return [
    ...new Set(
      app.routes
        .filter((route) => route.method !== 'ALL' && !route.path.endsWith('*'))
        .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    ),
  ].sort()
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document of every operation the admin app registers, and of nothing else', async () => {
    const res = await adminJson('GET', '/openapi.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.body).toMatchObject({ openapi: '3.1.0', info: { title: 'edge-auth-gateway admin API' }, servers: [{ url: `https://gw.example${ADMIN_PATH}` }] })
    const described = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort()
    expect(described).toEqual(registeredOperations())
    expect(described.length).toBeGreaterThan(30)
  })

  it('describes the bodies with the schemas that check them: strict objects, required fields, enums', async () => {
    const { body } = await adminJson('GET', '/openapi.json')
    const consumer = body.paths['/consumers'].post.requestBody.content['application/json'].schema
    expect(consumer).toMatchObject({ type: 'object', required: ['username'], additionalProperties: false, properties: { username: { type: 'string', minLength: 1, maxLength: 128 } } })
    const credential = body.paths['/consumers/{consumer}/jwt'].post.requestBody.content['application/json'].schema
    expect(credential.properties.algorithm).toMatchObject({ enum: expect.arrayContaining(['HS256', 'ES256', 'EdDSA']), default: 'HS256' })
    const rotate = body.paths['/api-keys/{accessKey}/rotate'].post
    expect(rotate.requestBody.content['application/json'].schema).toMatchObject({ required: ['overlap_seconds'], additionalProperties: false })
    expect(rotate.parameters).toEqual([{ name: 'accessKey', in: 'path', required: true, schema: { type: 'string' } }])
    expect(body.paths['/routes/{id}'].patch.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header' })]))
    expect(body.paths['/resources'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['kind', 'name', 'id', 'url'])
    for (const operations of Object.values(body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const operation of Object.values(operations)) expect(operation.responses.default).toEqual({ description: expect.any(String), content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } })
    }
  })

  it('describes what the endpoints answer: real answers fit the answer schemas', async () => {
    const consumer = await adminJson('POST', '/consumers', { username: 'alice' })
    expect(v.safeParse(ConsumerAnswerSchema, consumer.body).success).toBe(true)
    const credential = await adminJson('POST', '/consumers/alice/jwt', {})
    const { secret: _, secret_encoding: __, note: ___, ...listed } = credential.body
    expect(v.safeParse(CredentialAnswerSchema, listed).success).toBe(true)
    expect(v.safeParse(v.strictObject(CredentialAnswerSchema.entries), (await adminJson('GET', '/consumers/alice/jwt')).body.data[0]).success).toBe(true)
  })

  it('is behind the admin credential like every admin path', async () => {
    const res = await admin('GET', '/openapi.json', undefined, { 'x-auth-token': 'wrong-token' })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { code: string }).code).toBe('token_invalid')
  })
})
