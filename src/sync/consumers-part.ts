import type { ConsumersPart } from '../keyset/jwt-schema.js'
import type { ConsumerEntry, JwtCredentialEntry } from './consumer-registry.js'

/** What {@link buildConsumersPart} made of the registry. */
export interface ConsumersPartResult {
  /** `undefined` when there is no consumer: the manifest then names no `consumers` part. */
  part: ConsumersPart | undefined
  counts: {
    consumers: number
    jwtCredentials: number
    /** Credentials whose consumer is gone (a delete that stopped half-way). */
    orphanedCredentials: number
    /** Consumers that lost a username tie, credentials that lost a key tie (racing creations). */
    duplicateConsumers: number
    duplicateCredentialKeys: number
    /** Credentials past the `expiresAt` a rotation gave them: left out. */
    expiredCredentials: number
  }
  warnings: string[]
}

/**
 * Builds the key set's `consumers` part from the registry's documents:
 * consumers by id, credentials by key. Creation checks uniqueness with a read
 * then a write (KV has no transactions), so two racing creations can both
 * land; here the oldest document (then the smaller id) wins every tie, so
 * every sync settles it the same way, and the loser is counted. A credential
 * whose `expiresAt` (set by a rotation) has passed at `nowMs` is left out: it
 * stops working with the first sync after its expiry.
 */
export function buildConsumersPart(consumers: readonly ConsumerEntry[], credentials: readonly JwtCredentialEntry[], nowMs: number = Date.now()): ConsumersPartResult {
  const byAge = <T extends { createdAt: string; id: string }>(a: T, b: T) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
  const part: ConsumersPart = { consumers: {}, credentials: {} }
  const usernames = new Set<string>()
  let duplicateConsumers = 0
  for (const { createdAt: _, ...consumer } of [...consumers].sort(byAge)) {
    if (usernames.has(consumer.username)) {
      duplicateConsumers++
      continue
    }
    usernames.add(consumer.username)
    part.consumers[consumer.id] = consumer
  }
  let orphanedCredentials = 0
  let duplicateCredentialKeys = 0
  let expiredCredentials = 0
  for (const { createdAt: _, expiresAt, ...credential } of [...credentials].sort(byAge)) {
    if (expiresAt !== undefined && Date.parse(expiresAt) <= nowMs) expiredCredentials++
    else if (!Object.hasOwn(part.consumers, credential.consumerId)) orphanedCredentials++
    else if (Object.hasOwn(part.credentials, credential.key)) duplicateCredentialKeys++
    else part.credentials[credential.key] = credential
  }
  const warnings: string[] = []
  if (duplicateConsumers > 0) warnings.push(`${duplicateConsumers} consumer(s) share a username with an older consumer and were left out of the key set`)
  if (duplicateCredentialKeys > 0) warnings.push(`${duplicateCredentialKeys} JWT credential(s) share a key with an older credential and were left out of the key set`)
  const consumerCount = Object.keys(part.consumers).length
  return {
    part: consumerCount === 0 ? undefined : part,
    counts: { consumers: consumerCount, jwtCredentials: Object.keys(part.credentials).length, orphanedCredentials, duplicateConsumers, duplicateCredentialKeys, expiredCredentials },
    warnings,
  }
}
