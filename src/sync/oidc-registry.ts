/**
 * OIDC issuers the operator trusts, in the registry: one KV document per
 * issuer under `registry/v1/oidc-issuer/{id}`. The sync fetches each issuer's
 * JWKS and writes issuers and keys into the key set's `oidc` part.
 * docs/storage.md, "OIDC issuers".
 */
import * as v from 'valibot'
import { OidcIssuerSchema } from '../keyset/jwt-schema.js'
import { registryKeys, type RegistryKv } from './registry.js'
import { getDocument, listAllDocuments, putDocument } from './registry-documents.js'

const IsoTime = v.pipe(v.string(), v.isoTimestamp())
const { id, issuer, audiences, jwksUri, algorithms } = OidcIssuerSchema.entries

/** An OIDC issuer as the registry stores it (no keys: those live in the key set). */
export const OidcIssuerEntrySchema = v.object({ id, issuer, audiences, jwksUri, algorithms, createdAt: IsoTime, updatedAt: IsoTime })
export type OidcIssuerEntry = v.InferOutput<typeof OidcIssuerEntrySchema>

/** Reads and writes OIDC issuers. */
export class OidcRegistry {
  constructor(private readonly kv: RegistryKv) {}

  find(issuerId: string): Promise<OidcIssuerEntry | undefined> {
    return getDocument(this.kv, registryKeys.oidcIssuer(issuerId), OidcIssuerEntrySchema)
  }

  /** Every issuer, in id order. */
  all(): Promise<{ documents: OidcIssuerEntry[]; unreadable: string[] }> {
    return listAllDocuments(this.kv, registryKeys.oidcIssuerPrefix, OidcIssuerEntrySchema)
  }

  async save(entry: OidcIssuerEntry): Promise<OidcIssuerEntry> {
    const issuerEntry = v.parse(OidcIssuerEntrySchema, entry)
    await putDocument(this.kv, registryKeys.oidcIssuer(issuerEntry.id), issuerEntry)
    return issuerEntry
  }

  delete(issuerId: string): Promise<void> {
    return this.kv.delete(registryKeys.oidcIssuer(issuerId))
  }
}
