import { base64url, importJWK } from 'jose'

/**
 * Imports an RSA public key given as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`,
 * RFC 8017 A.1.1), the form the serverless platform shows a namespace key in.
 * WebCrypto takes SPKI or JWK only, so the two DER integers (modulus, exponent)
 * are read out and handed to jose as a JWK; no cryptography happens here.
 *
 * @throws {TypeError} when the PEM is not a well-formed PKCS#1 RSA public key.
 */
export async function importPkcs1PublicKey(pem: string, algorithm: 'RS256' | 'RS384' | 'RS512' = 'RS256'): Promise<CryptoKey> {
  const match = /-----BEGIN RSA PUBLIC KEY-----([\s\S]+?)-----END RSA PUBLIC KEY-----/.exec(pem)
  if (!match?.[1]) throw new TypeError('not a PKCS#1 PEM (-----BEGIN RSA PUBLIC KEY-----)')
  let der: Uint8Array
  try {
    der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), (ch) => ch.charCodeAt(0))
  } catch {
    throw new TypeError('PKCS#1 PEM body is not base64')
  }
  const reader = new DerReader(der)
  const sequence = new DerReader(reader.read(0x30))
  const n = sequence.read(0x02)
  const e = sequence.read(0x02)
  if (!sequence.done() || !reader.done()) throw new TypeError('PKCS#1 key has trailing data')
  const jwk = { kty: 'RSA', n: base64url.encode(stripSign(n)), e: base64url.encode(stripSign(e)) }
  return (await importJWK(jwk, algorithm)) as CryptoKey
}

class DerReader {
  #offset = 0
  constructor(private readonly bytes: Uint8Array) {}

  read(tag: number): Uint8Array {
    if (this.bytes[this.#offset] !== tag) throw new TypeError(`PKCS#1 key: expected DER tag 0x${tag.toString(16)}`)
    let length = this.bytes[this.#offset + 1] ?? 0
    let header = 2
    if (length & 0x80) {
      const count = length & 0x7f
      if (count === 0 || count > 4) throw new TypeError('PKCS#1 key: unsupported DER length')
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + (this.bytes[this.#offset + 2 + i] ?? 0)
      header += count
    }
    const start = this.#offset + header
    if (start + length > this.bytes.length) throw new TypeError('PKCS#1 key: truncated')
    this.#offset = start + length
    return this.bytes.subarray(start, start + length)
  }

  done(): boolean {
    return this.#offset === this.bytes.length
  }
}

/** DER integers carry a leading zero byte when their top bit is set; JWK values do not. */
function stripSign(bytes: Uint8Array): Uint8Array {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return bytes.subarray(start)
}
