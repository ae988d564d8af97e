/** `/containers/v1beta1/regions/{region}/containers`: fields and defaults of a container. */
import type { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../context.js'
import type { ContainerDoc, ScalingOption } from '../db/docs.js'
import { newId } from '../http/ids.js'
import { tags, uuid } from '../http/validate.js'
import { CONTAINERS, duration, envVars, hashSecrets, privateNetworkAfter, privateNetworkId, SecretSpec, serverlessName } from './common.js'
import { checkScaling, DEFAULT_HEALTH_CHECK, HealthCheckSpec, healthCheckOf, ScalingOptionSpec, scalingOptionOf } from './container-options.js'
import { namespaceSlug } from './namespaces.js'
import { workloadRoutes } from './workloads.js'

const privacy = v.picklist(['unknown_privacy', 'public', 'private'])
const httpOption = v.picklist(['unknown_http_option', 'enabled', 'redirected'])
const sandbox = v.picklist(['unknown_sandbox', 'v1', 'v2'])
const protocol = v.picklist(['unknown_protocol', 'http1', 'h2c'])
const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max))

const Fields = {
  environment_variables: v.optional(v.nullable(envVars)),
  min_scale: v.optional(v.nullable(int(0, 50))),
  max_scale: v.optional(v.nullable(int(0, 50))),
  memory_limit: v.optional(v.nullable(int(128, 8192))),
  cpu_limit: v.optional(v.nullable(int(70, 4000))),
  timeout: v.optional(v.nullable(duration)),
  privacy: v.optional(privacy),
  description: v.optional(v.nullable(v.string())),
  registry_image: v.optional(v.nullable(v.string())),
  max_concurrency: v.optional(v.nullable(int(1, 80))),
  protocol: v.optional(protocol),
  port: v.optional(v.nullable(int(1, 65535))),
  secret_environment_variables: v.optional(v.nullable(v.array(SecretSpec))),
  http_option: v.optional(httpOption),
  sandbox: v.optional(sandbox),
  local_storage_limit: v.optional(v.nullable(int(1, 100_000))),
  scaling_option: v.optional(v.nullable(ScalingOptionSpec)),
  health_check: v.optional(v.nullable(HealthCheckSpec)),
  private_network_id: privateNetworkId,
  command: v.optional(v.nullable(v.array(v.string()))),
  args: v.optional(v.nullable(v.array(v.string()))),
  tags: v.optional(v.nullable(tags)),
}
const CreateContainer = v.object({ name: serverlessName, namespace_id: uuid, ...Fields })
const UpdateContainer = v.object({ redeploy: v.optional(v.nullable(v.boolean())), ...Fields })

/**
 * The scaling option after an update: the one sent, else a concurrency rule
 * that follows a new `max_concurrency` (recorded: `max_concurrency: 80` turns
 * `{concurrent_requests_threshold: 50}` into 80), else the current one.
 */
function scalingAfter(doc: ContainerDoc, sent: v.InferOutput<typeof ScalingOptionSpec> | null | undefined, maxConcurrency: number | null | undefined): ScalingOption {
  if (sent) return scalingOptionOf(sent)
  if (maxConcurrency != null && 'concurrent_requests_threshold' in doc.scaling_option) return { concurrent_requests_threshold: maxConcurrency }
  return doc.scaling_option
}

/** Registers the container routes on the containers router. */
export function containerRoutes(api: Hono<AppEnv>): void {
  workloadRoutes(api, {
    product: CONTAINERS,
    collection: 'containers',
    table: (c) => c.var.emulator.tables.containers,
    create: CreateContainer,
    update: UpdateContainer,
    build: async (body, namespace, at): Promise<ContainerDoc> => {
      const concurrency = body.max_concurrency ?? 50
      // Without a scaling option, the concurrency limit is the rule (recorded).
      const scaling = body.scaling_option ? scalingOptionOf(body.scaling_option) : { concurrent_requests_threshold: concurrency }
      const minScale = body.min_scale ?? 0
      checkScaling(minScale, scaling)
      return {
        id: newId(),
        name: body.name,
        namespace_id: namespace.id,
        status: 'created',
        environment_variables: body.environment_variables ?? {},
        min_scale: minScale,
        max_scale: body.max_scale ?? 5,
        memory_limit: body.memory_limit ?? 2048,
        cpu_limit: body.cpu_limit ?? 1000,
        timeout: body.timeout ?? '300s',
        error_message: null,
        privacy: body.privacy === 'private' ? 'private' : 'public',
        description: body.description ?? '',
        registry_image: body.registry_image ?? `${namespace.registry_endpoint}/${body.name}:latest`,
        max_concurrency: concurrency,
        domain_name: `${namespaceSlug(namespace)}-${body.name}.functions.fnc.${namespace.region}.scw.cloud`,
        protocol: body.protocol === 'h2c' ? 'h2c' : 'http1',
        port: body.port ?? 8080,
        secret_environment_variables: await hashSecrets(body.secret_environment_variables ?? []),
        http_option: body.http_option === 'redirected' ? 'redirected' : 'enabled',
        sandbox: body.sandbox === 'v1' ? 'v1' : 'v2',
        local_storage_limit: body.local_storage_limit ?? 1000,
        scaling_option: scaling,
        created_at: at,
        updated_at: at,
        ready_at: null,
        health_check: body.health_check ? healthCheckOf(body.health_check) : DEFAULT_HEALTH_CHECK,
        tags: body.tags ?? [],
        private_network_id: privateNetworkAfter(body.private_network_id, null),
        command: body.command ?? [],
        args: body.args ?? [],
        region: namespace.region,
      }
    },
    apply: async (doc, body): Promise<ContainerDoc> => {
      const updated: ContainerDoc = {
        ...doc,
        environment_variables: body.environment_variables ?? doc.environment_variables,
        min_scale: body.min_scale ?? doc.min_scale,
        max_scale: body.max_scale ?? doc.max_scale,
        memory_limit: body.memory_limit ?? doc.memory_limit,
        cpu_limit: body.cpu_limit ?? doc.cpu_limit,
        timeout: body.timeout ?? doc.timeout,
        privacy: body.privacy === 'public' || body.privacy === 'private' ? body.privacy : doc.privacy,
        description: body.description ?? doc.description,
        registry_image: body.registry_image ?? doc.registry_image,
        max_concurrency: body.max_concurrency ?? doc.max_concurrency,
        protocol: body.protocol === 'http1' || body.protocol === 'h2c' ? body.protocol : doc.protocol,
        port: body.port ?? doc.port,
        secret_environment_variables: body.secret_environment_variables ? await hashSecrets(body.secret_environment_variables) : doc.secret_environment_variables,
        http_option: body.http_option === 'enabled' || body.http_option === 'redirected' ? body.http_option : doc.http_option,
        sandbox: body.sandbox === 'v1' || body.sandbox === 'v2' ? body.sandbox : doc.sandbox,
        local_storage_limit: body.local_storage_limit ?? doc.local_storage_limit,
        command: body.command ?? doc.command,
        args: body.args ?? doc.args,
        tags: body.tags ?? doc.tags,
        scaling_option: scalingAfter(doc, body.scaling_option, body.max_concurrency),
        health_check: body.health_check ? healthCheckOf(body.health_check) : doc.health_check,
        private_network_id: privateNetworkAfter(body.private_network_id, doc.private_network_id),
        status: body.redeploy ? 'ready' : doc.status,
      }
      checkScaling(updated.min_scale, updated.scaling_option)
      return updated
    },
  })
}
