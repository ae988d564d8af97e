import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, type JWK } from 'jose'
import type { ConsumerAlgorithm } from '../../src/keyset/jwt-schema.js'

/** A key pair for a signing algorithm, with its public half as SPKI PEM and JWK. */
export interface TestKeyPair {
  privateKey: CryptoKey
  publicKey: CryptoKey
  spki: string
  pkcs8: string
  jwk: JWK
}

const pairs = new Map<string, Promise<TestKeyPair>>()

/**
 * A key pair for `algorithm`, generated once per test file. RS* and PS* share one
 * RSA 2048 key (the same key serves both padding schemes); its private half is
 * imported for the algorithm asked for.
 */
export async function keyPairFor(algorithm: Exclude<ConsumerAlgorithm, 'HS256' | 'HS384' | 'HS512'>): Promise<TestKeyPair> {
  const pair = await generatedFor(algorithm)
  if (!/^(RS|PS)/.test(algorithm) || algorithm === 'RS256') return pair
  return { ...pair, privateKey: await importPKCS8(pair.pkcs8, algorithm) }
}

function generatedFor(algorithm: Exclude<ConsumerAlgorithm, 'HS256' | 'HS384' | 'HS512'>): Promise<TestKeyPair> {
  const family = /^(RS|PS)/.test(algorithm) ? 'RS256' : algorithm
  let pair = pairs.get(family)
  if (!pair) {
    pair = (async () => {
      const { privateKey, publicKey } = await generateKeyPair(family, { extractable: true, ...(family === 'RS256' ? { modulusLength: 2048 } : {}) })
      return { privateKey, publicKey, spki: await exportSPKI(publicKey), pkcs8: await exportPKCS8(privateKey), jwk: await exportJWK(publicKey) }
    })()
    pairs.set(family, pair)
  }
  return pair
}

/** A self-signed X.509 certificate (EC P-256): a PEM, but not a public key. Test-only. */
export const CERTIFICATE_PEM = `-----BEGIN CERTIFICATE-----
MIIBlzCCAT2gAwIBAgIUYftr0uq8UaZZMADFXs2ax/KOa90wCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWZWRnZS1hdXRoLWdhdGV3YXkgdGVzdDAeFw0yNjExMjIxNjA0
MzlaFw0zNjExMTkxNjA0MzlaMCExHzAdBgNVBAMMFmVkZ2UtYXV0aC1nYXRld2F5
IHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR0FKryz4duGdNwbOxp30qb
uqLQ8pOhmlg2Ge/RIWX0ljTHbvHPzOS+/kHFGDuLy5DdyFTJbpLN4JZ3gERkVU7o
o1MwUTAdBgNVHQ4EFgQUhQVIF4pNgNmXjxobfweBcqjFRIowHwYDVR0jBBgwFoAU
hQVIF4pNgNmXjxobfweBcqjFRIowDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD
AgNIADBFAiBjM3lR+HFrs0OyQxj4fU0wNNSpylypPsc56chSHQSMAwIhANsRM9tB
ubl5XX90fRfxxIGi30LK6khdfczG/HOOPnJT
-----END CERTIFICATE-----`

/** An RSA public key of 1,024 bits, SPKI PEM: too small for RSA signatures (jose refuses under 2,048). */
export const RSA_1024_SPKI_PEM = `-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2QYvt8c0b7vBaq1e0N2GmlK9C
Vug/9ci9W6Cd5wkLW5jsJjUB9lEn2B5eDZnVvwZh20ItMzp/OeI433MKv2c5mqtI
UmP5FjaOKPOa3Cfok5SId+qRNHsc44qM7vczUK5AbZ5/KQiAnoro1Sy5CYUY8n2q
5yjX8ZWXP/gQfAmJ8wIDAQAB
-----END PUBLIC KEY-----`

/** An RSA 2,048 public key in PKCS#1 (`BEGIN RSA PUBLIC KEY`), not SPKI. */
export const RSA_PKCS1_PEM = `-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA4OTMcJl39oIzMzF2nb95Zz669Ge/3mE+lP6bYYvM4HZdrZCRaHau
Q+vGdCFrrfo+Xn8mrlM9JEQS+TCEBB6r75651ZVi9Y2ZlVmwPwH7i+Yde5oiyoI8
56hjh6tjtTnViZbewgpoGfvLYXvp5FUi4vVH/+VEn1QR2S6OxpZME/K17ZORprqT
Zj/gMKhOXmgKa6NxsAcckTy8+Uig3ya3KoElGvYceYl05Sfr+If6gvS7FMu1w9su
mrCrxUkrl8fczAJjtzxNwsCWyO6F1yCxlkK/kruGCbUVPObYtPZnExdBrbig5M92
7aK3xnQZgrc1N3Ut3HqZQRlIoED42NVbAQIDAQAB
-----END RSA PUBLIC KEY-----`

/** An RSA-4,096 public key, SPKI PEM: the largest credential document the registry keeps in metadata. */
export const RSA_4096_SPKI_PEM = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAkY440ejo318YvHJJkgYi
vYKTle99+T4rLYaWnRzlGCLlRhqGv8KnQuDZ6IM1XHwJSSyKFWmXNdeWfJ/Wgrzp
75Zg2+7EvVFAXH5q1yYmzRsF1uTqoa1o+Abg0wKIpGAHf8PpUK+Gf1DxrzsKQ6UA
Vu+B8+zxSRNhIuqo2woD1Z4bSNQ3GgW7yd2ETi541C0DcMhgh/CBtWF+eG6Z3T4o
TQ/r+IxS59wLFlmN4OpRrTYs/RE9caKCCRRfEq7aYuandmxmRpiOiIhzOJCE6tK3
XBMQSuVsCG32nEOC4DpHgX8SHb81HXI4/7QtqOuBoFYd7lMrH76uF9EMjt45AHc5
m3Ybpv7WY55TsWHBbF8+YEMIb0qwH0jnW1O34+d+NmpggtPkcsT68XNgpEiN43Nw
1Bm6zRSAZcWejpUk1WsI1ACtTY/cIFXwAXUaAaFonuOAWJ5QV/mAh9FEriMoA+gz
z/6MB1RmRmLWMGJ/BKk8jFk0yM4xalYBF15MOWpVTdhlHrCGrNf2NaOGj3HKYW57
1tqGgIzeQ2IU81Rm9MjnLpwZpbgszUHfxBhJnMzHgNSBFhqDAlbqFlSneEyhgLIT
Q2HWDu/PrVvT+hsxG2iXICpF87dunH6Wm4SUyUb+HvDPYh7GR2rCgEWtrGyfuZzq
/9iOD2kyBNQbHTAI+4HnnKECAwEAAQ==
-----END PUBLIC KEY-----`

/** An Ed448 public key, SPKI PEM (made with Node's crypto): a key workerd cannot verify with. Test-only. */
export const ED448_SPKI_PEM = `-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAgmjYLjbUIhynWhy7KKZ/RDokJbkPFC4xtj+vz375T6Ghlj2c
yIBFuQY+kdCSTT6yR8wPoJ+LBeyA
-----END PUBLIC KEY-----`
