/**
 * Per-namespace RSA keys and the legacy serverless tokens they sign. The
 * platform signs tokens with RS256 and no `kid`, and shows the namespace's
 * public key once, as a PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`), in the
 * answer that creates a token (recorded in terraform-provider-scaleway's
 * `function-token-basic` cassette, whose JWTs carry the claims below).
 */
import { base64url, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose'

/** A namespace's key pair, imported. */
export interface NamespaceKey {
  privateKey: CryptoKey
  publicKey: CryptoKey
  /** PKCS#1 PEM of the public key, as the platform shows it. */
  publicPem: string
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length]
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff)
  return [0x80 | bytes.length, ...bytes]
}

function derInteger(encoded: string): number[] {
  let bytes = [...base64url.decode(encoded)]
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.slice(1)
  // DER integers are signed: a leading 1 bit needs a zero byte in front.
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0)
  return [0x02, ...derLength(bytes.length), ...bytes]
}

/**
 * PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
 * (RFC 8017 A.1.1) of a public JWK, as PEM with 64-character lines.
 */
export function pkcs1PublicPem(jwk: JWK): string {
  if (jwk.n === undefined || jwk.e === undefined) throw new TypeError('not an RSA public key')
  const body = [...derInteger(jwk.n), ...derInteger(jwk.e)]
  const der = Uint8Array.from([0x30, ...derLength(body.length), ...body])
  const base64 = btoa(String.fromCharCode(...der))
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN RSA PUBLIC KEY-----\n${lines.join('\n')}\n-----END RSA PUBLIC KEY-----\n`
}

/** Namespace keys kept in SQLite (`namespace_keys`), imported once per instance. */
export class SigningKeys {
  private readonly imported = new Map<string, NamespaceKey>()

  constructor(
    private readonly sql: SqlStorage,
    private readonly modulusBits: number,
  ) {}

  private async importStored(namespaceId: string): Promise<NamespaceKey | undefined> {
    const cached = this.imported.get(namespaceId)
    if (cached) return cached
    const row = this.sql.exec<{ private_jwk: string; public_pem: string }>('SELECT private_jwk, public_pem FROM namespace_keys WHERE namespace_id = ?', namespaceId).toArray()[0]
    if (!row) return undefined
    const jwk = JSON.parse(row.private_jwk) as JWK
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ext: _ext, ...publicJwk } = jwk
    const key: NamespaceKey = {
      privateKey: (await importJWK(jwk, 'RS256')) as CryptoKey,
      publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
      publicPem: row.public_pem,
    }
    this.imported.set(namespaceId, key)
    return key
  }

  /** The namespace's key, or undefined when no token was ever minted for it. */
  find(namespaceId: string): Promise<NamespaceKey | undefined> {
    return this.importStored(namespaceId)
  }

  /** The namespace's key, generated (RSASSA-PKCS1-v1_5, SHA-256) on first use. */
  async forNamespace(namespaceId: string): Promise<NamespaceKey> {
    const existing = await this.importStored(namespaceId)
    if (existing) return existing
    const pair = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: this.modulusBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair
    const privateJwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK
    const publicJwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JWK
    // A concurrent request may have stored a key meanwhile: the first one stored wins.
    this.sql.exec('INSERT OR IGNORE INTO namespace_keys (namespace_id, private_jwk, public_pem) VALUES (?, ?, ?)', namespaceId, JSON.stringify(privateJwk), pkcs1PublicPem(publicJwk))
    return (await this.importStored(namespaceId))!
  }

  /** Forgets a deleted namespace's key. */
  delete(namespaceId: string): void {
    this.sql.exec('DELETE FROM namespace_keys WHERE namespace_id = ?', namespaceId)
    this.imported.delete(namespaceId)
  }
}

/** What a legacy token says. */
export interface TokenClaims {
  tokenId: string
  /** Namespace of a namespace-wide token; empty for a resource token, as on the platform. */
  namespaceId: string
  /** Function or container of a resource token; empty for a namespace token. */
  applicationId: string
  issuedAt: Date
  expiresAt?: Date
}

/** Signs a legacy token: RS256, no `kid`, the platform's claims. */
export function signToken(key: NamespaceKey, claims: TokenClaims): Promise<string> {
  const iat = Math.floor(claims.issuedAt.getTime() / 1000)
  const jwt = new SignJWT({ application_claim: [{ namespace_id: claims.namespaceId, application_id: claims.applicationId }], version: 2 })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setAudience('functions')
  if (claims.expiresAt) jwt.setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
  return jwt.setJti(claims.tokenId).setIssuedAt(iat).setIssuer('SCALEWAY').setNotBefore(iat).setSubject('token').sign(key.privateKey)
}

/**
 * Verifies a legacy token against a namespace key: signature (RS256 only)
 * first, then `iss`, `aud`, `exp` and `nbf`.
 * @throws {JOSEError} when any check fails.
 */
export async function verifyToken(key: NamespaceKey, token: string, now: Date): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, key.publicKey, { algorithms: ['RS256'], issuer: 'SCALEWAY', audience: 'functions', currentDate: now })
  return payload
}
