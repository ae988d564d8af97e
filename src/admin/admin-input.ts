/**
 * Input rules shared by admin endpoints: body fields, and the ids each resource
 * takes in its path. Messages name what is expected, never the value, and never
 * the field (the formatter in admin-http.ts adds it).
 */
import * as v from 'valibot'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ACCESS_KEY = /^SCW[0-9A-Z]{17}$/
const NO_CONTROL = (max: number) => new RegExp(`^[^\\p{Cc}]{1,${max}}$`, 'u')
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/

/** A UUID body field. */
export const UuidField = v.pipe(v.string('expected a UUID'), v.regex(UUID, 'expected a UUID'))

/** An IAM access key body field (`SCW` + 17). */
export const AccessKeyField = v.pipe(v.string('expected SCW followed by 17 capital letters or digits'), v.regex(ACCESS_KEY, 'expected SCW followed by 17 capital letters or digits'))

/** The kind recorded for an API key. */
export const KeyKindField = v.optional(v.picklist(['personal', 'ci', 'service'], 'expected one of personal, ci, service'))

/** `"replace": true` allows a capture endpoint to overwrite what is already captured. */
export const ReplaceField = v.optional(v.boolean('expected true or false'), false)

/** Path-id rules, one per resource (see {@link pathId} in admin-http.ts). */
export const idRules = {
  accessKey: { test: (value: string) => ACCESS_KEY.test(value), description: 'expected SCW followed by 17 capital letters or digits' },
  /** `{consumer}`: an id, or a username (the rule of `username`). */
  consumer: { test: (value: string) => NO_CONTROL(128).test(value), description: 'an id, or a username of 1–128 characters without control characters' },
  /** `{credential}`: an id, or a credential key (the rule of `key`). */
  credential: { test: (value: string) => NO_CONTROL(256).test(value), description: 'an id, or a key of 1–256 characters without control characters' },
  /** `{id}` of a route (RouteSchema's rule). */
  route: { test: (value: string) => /^[a-z0-9][a-z0-9-_.]{0,62}$/i.test(value), description: 'letters, digits and - _ . (starting with a letter or digit), at most 63 characters' },
  /** `{id}` of an OIDC issuer. */
  oidcIssuer: { test: (value: string) => SLUG.test(value), description: 'letters, digits and . _ ~ - (starting with a letter or digit), at most 128 characters' },
} as const
