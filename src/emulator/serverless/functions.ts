/** `/functions/v1beta1/regions/{region}/functions`: fields and defaults of a function. */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import type { FunctionDoc } from '../db/docs.js'
import { newId } from '../http/ids.js'
import { tags, uuid } from '../http/validate.js'
import { duration, envVars, FUNCTIONS, hashSecrets, privateNetworkAfter, privateNetworkId, SecretSpec, serverlessName } from './common.js'
import { namespaceSlug } from './namespaces.js'
import { workloadRoutes } from './workloads.js'

const privacy = v.picklist(['unknown_privacy', 'public', 'private'])
const httpOption = v.picklist(['unknown_http_option', 'enabled', 'redirected'])
const sandbox = v.picklist(['unknown_sandbox', 'v1', 'v2'])
const scale = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(50))
const memory = v.pipe(v.number(), v.integer(), v.minValue(128), v.maxValue(4096))
const runtime = v.pipe(v.string(), v.regex(/^[a-z]+[0-9]*$/, 'must be a runtime name such as node22'), v.check((value) => value !== 'unknown_runtime', 'runtime is required'))
/** In an update, `unknown_runtime` (the Go SDK's zero value, sent in every PATCH) leaves the runtime as it is (recorded). */
const updateRuntime = v.pipe(v.string(), v.check((value) => value === 'unknown_runtime' || /^[a-z]+[0-9]*$/.test(value), 'must be a runtime name such as node22'))

const Fields = {
  environment_variables: v.optional(v.nullable(envVars)),
  min_scale: v.optional(v.nullable(scale)),
  max_scale: v.optional(v.nullable(scale)),
  memory_limit: v.optional(v.nullable(memory)),
  timeout: v.optional(v.nullable(duration)),
  handler: v.optional(v.nullable(v.string())),
  privacy: v.optional(privacy),
  description: v.optional(v.nullable(v.string())),
  secret_environment_variables: v.optional(v.nullable(v.array(SecretSpec))),
  http_option: v.optional(httpOption),
  sandbox: v.optional(sandbox),
  tags: v.optional(v.nullable(tags)),
  private_network_id: privateNetworkId,
}
const CreateFunction = v.object({ name: serverlessName, namespace_id: uuid, runtime, ...Fields })
const UpdateFunction = v.object({ runtime: v.optional(v.nullable(updateRuntime)), redeploy: v.optional(v.nullable(v.boolean())), ...Fields })

/** CPU the platform gives a memory size (140 mCPU for 256 MB, proportionally). */
function cpuFor(memoryMb: number): number {
  return Math.round((memoryMb * 140) / 256)
}

/** Registers the function routes on the functions router. */
export function functionRoutes(api: Hono<AppEnv>): void {
  workloadRoutes(api, {
    product: FUNCTIONS,
    collection: 'functions',
    table: (c) => c.var.emulator.tables.functions,
    create: CreateFunction,
    update: UpdateFunction,
    build: async (body, namespace, at): Promise<FunctionDoc> => {
      const memoryLimit = body.memory_limit ?? 256
      return {
        id: newId(),
        name: body.name,
        namespace_id: namespace.id,
        status: 'created',
        environment_variables: body.environment_variables ?? {},
        min_scale: body.min_scale ?? 0,
        max_scale: body.max_scale ?? 5,
        runtime: body.runtime,
        memory_limit: memoryLimit,
        cpu_limit: cpuFor(memoryLimit),
        timeout: body.timeout ?? '300s',
        handler: body.handler ?? 'handler.handle',
        error_message: null,
        privacy: body.privacy === 'private' ? 'private' : 'public',
        description: body.description ?? '',
        domain_name: `${namespaceSlug(namespace)}-${body.name}.functions.fnc.${namespace.region}.scw.cloud`,
        secret_environment_variables: await hashSecrets(body.secret_environment_variables ?? []),
        http_option: body.http_option === 'redirected' ? 'redirected' : 'enabled',
        runtime_message: '',
        build_message: null,
        sandbox: body.sandbox === 'v1' ? 'v1' : 'v2',
        created_at: at,
        updated_at: at,
        ready_at: null,
        tags: body.tags ?? [],
        private_network_id: privateNetworkAfter(body.private_network_id, null),
        region: namespace.region,
      }
    },
    apply: async (doc, body): Promise<FunctionDoc> => ({
      ...doc,
      environment_variables: body.environment_variables ?? doc.environment_variables,
      min_scale: body.min_scale ?? doc.min_scale,
      max_scale: body.max_scale ?? doc.max_scale,
      runtime: body.runtime && body.runtime !== 'unknown_runtime' ? body.runtime : doc.runtime,
      memory_limit: body.memory_limit ?? doc.memory_limit,
      cpu_limit: cpuFor(body.memory_limit ?? doc.memory_limit),
      timeout: body.timeout ?? doc.timeout,
      handler: body.handler ?? doc.handler,
      privacy: body.privacy === 'public' || body.privacy === 'private' ? body.privacy : doc.privacy,
      description: body.description ?? doc.description,
      secret_environment_variables: body.secret_environment_variables ? await hashSecrets(body.secret_environment_variables) : doc.secret_environment_variables,
      http_option: body.http_option === 'enabled' || body.http_option === 'redirected' ? body.http_option : doc.http_option,
      sandbox: body.sandbox === 'v1' || body.sandbox === 'v2' ? body.sandbox : doc.sandbox,
      tags: body.tags ?? doc.tags,
      private_network_id: privateNetworkAfter(body.private_network_id, doc.private_network_id),
      status: body.redeploy ? 'ready' : doc.status,
    }),
  })
}
