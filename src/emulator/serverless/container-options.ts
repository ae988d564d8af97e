/**
 * A container's `health_check` and `scaling_option`: the shapes the SDKs send
 * (`ContainerHealthCheckSpec`, `ContainerScalingOption`), what the API answers,
 * and the checks it makes. Bounds are the SDKs' validation rules where they
 * have one (`failure_threshold` 3–50, `http.path` 1–100 characters); the
 * others are listed in docs/emulator.md.
 */
import * as v from 'valibot'
import type { HealthCheck, ScalingOption } from '../db/docs.js'
import { invalidArgument } from '../http/errors.js'
import { positiveDuration } from './common.js'

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`))

/** `health_check` in a create or update body. */
export const HealthCheckSpec = v.pipe(
  v.object({
    http: v.optional(v.nullable(v.object({ path: v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(100, 'must be at most 100 characters')) }))),
    tcp: v.optional(v.nullable(v.object({}))),
    failure_threshold: int(3, 50),
    interval: v.optional(v.nullable(positiveDuration)),
  }),
  v.check((spec) => (spec.http != null) !== (spec.tcp != null), 'precisely one of http, tcp must be set'),
)

/** `scaling_option` in a create or update body. */
export const ScalingOptionSpec = v.pipe(
  v.object({
    concurrent_requests_threshold: v.optional(v.nullable(int(1, 80))),
    cpu_usage_threshold: v.optional(v.nullable(int(1, 100))),
    memory_usage_threshold: v.optional(v.nullable(int(1, 100))),
  }),
  v.check(
    (spec) => [spec.concurrent_requests_threshold, spec.cpu_usage_threshold, spec.memory_usage_threshold].filter((value) => value != null).length === 1,
    'precisely one of concurrent_requests_threshold, cpu_usage_threshold, memory_usage_threshold must be set',
  ),
)

/** The health check a new container gets (recorded). */
export const DEFAULT_HEALTH_CHECK: HealthCheck = { failure_threshold: 30, interval: '10s', tcp: {} }

/** The stored health check for a valid spec; an absent interval is the default `10s` (a guess). */
export function healthCheckOf(spec: v.InferOutput<typeof HealthCheckSpec>): HealthCheck {
  const head = { failure_threshold: spec.failure_threshold, interval: spec.interval ?? DEFAULT_HEALTH_CHECK.interval }
  return spec.http ? { ...head, http: { path: spec.http.path } } : { ...head, tcp: {} }
}

/** The stored scaling option for a valid spec: only the rule that is set. */
export function scalingOptionOf(spec: v.InferOutput<typeof ScalingOptionSpec>): ScalingOption {
  if (spec.cpu_usage_threshold != null) return { cpu_usage_threshold: spec.cpu_usage_threshold }
  if (spec.memory_usage_threshold != null) return { memory_usage_threshold: spec.memory_usage_threshold }
  return { concurrent_requests_threshold: spec.concurrent_requests_threshold! }
}

/**
 * Refuses CPU and memory scaling with `min_scale` 0, as the platform documents
 * ("For CPU and RAM based autoscaling, the min-scale value must be at least 1").
 * @throws {ScalewayError} 400 `invalid_arguments` naming `min_scale`.
 */
export function checkScaling(minScale: number, scaling: ScalingOption): void {
  if (minScale < 1 && !('concurrent_requests_threshold' in scaling)) {
    throw invalidArgument('min_scale', 'constraint', 'must be at least 1 with a CPU or memory scaling option')
  }
}
