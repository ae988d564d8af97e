/**
 * The sync's side of the key-set owner: a stub of the one owner instance, each call
 * counted as a subrequest of the step that makes it (and the owner's own KV
 * operations counted beside it).
 */
import type { ManifestOwner } from '../keyset/manifest-owner.js'
import { KEYSET_OWNER_NAME } from '../keyset/owner/schema.js'
import type { SubrequestMeter } from './subrequests.js'

/** The owner's calls the sync makes. */
export type OwnerCalls = Pick<
  ManifestOwner,
  | 'begin'
  | 'verifyParts'
  | 'putParts'
  | 'stage'
  | 'staged'
  | 'applyPrincipals'
  | 'feedCaptures'
  | 'feedIamKeys'
  | 'suspects'
  | 'confirmIamKeys'
  | 'clearIamKeys'
  | 'planShards'
  | 'buildShards'
  | 'commit'
  | 'finish'
  | 'revoke'
  | 'inspect'
  | 'manifest'
>

/** The binding of the owner's Durable Object namespace. */
export type OwnerNamespace = DurableObjectNamespace<ManifestOwner>

/** A stub of the one owner instance. */
export function ownerStub(namespace: OwnerNamespace): OwnerCalls {
  return namespace.get(namespace.idFromName(KEYSET_OWNER_NAME)) as unknown as OwnerCalls
}

/** The owner's calls, each counted on `meter` (one subrequest, plus the owner's KV operations on the side). */
export function countedOwner(owner: OwnerCalls, meter: SubrequestMeter): OwnerCalls {
  return new Proxy(owner, {
    get: (target, property) => {
      const method = (target as unknown as Record<string | symbol, unknown>)[property]
      if (typeof method !== 'function') return method
      return async (...args: unknown[]) => {
        meter.charge()
        // Reflect.apply: an RPC stub method treats `.apply` as the name of a remote method.
        const result = ((await Reflect.apply(method as (...a: unknown[]) => Promise<{ kvOps?: number }>, target, args)) as { kvOps?: number; kvWrites?: number } | undefined) ?? {}
        meter.ownerKvOps += result.kvOps ?? 0
        meter.kvWrites += result.kvWrites ?? 0
        return result
      }
    },
  })
}
