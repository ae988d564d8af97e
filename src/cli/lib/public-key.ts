/** `--public-key <file>`: a PEM public key, and the JWT algorithm its type implies. */
import { createPublicKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { UsageError } from './errors.js'

/** The algorithm a key of this type signs with by default: RS256, ES256/384/512 by curve, EdDSA. */
const DEFAULT_ALGORITHM: Record<string, string> = { rsa: 'RS256', 'rsa-pss': 'PS256', ed25519: 'EdDSA', prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/**
 * Reads a PEM public key and tells which algorithm fits it (the gateway checks
 * the pair again, with jose).
 * @throws {UsageError} when the file cannot be read or holds no public key (a private key is refused: only the public half leaves your machine).
 */
export async function readPublicKey(path: string): Promise<{ pem: string; algorithm: string | undefined }> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(`--public-key: cannot read ${path} (${(error as { code?: string }).code ?? 'error'})`)
  }
  if (/PRIVATE KEY-----/.test(pem)) throw new UsageError(`--public-key: ${path} holds a private key; give the public key (openssl pkey -in key.pem -pubout)`)
  try {
    const key = createPublicKey(pem)
    const type = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : key.asymmetricKeyType
    return { pem: pem.trim(), algorithm: type === undefined ? undefined : DEFAULT_ALGORITHM[type] }
  } catch {
    throw new UsageError(`--public-key: ${path} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`)
  }
}
