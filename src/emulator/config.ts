/** The emulator Worker's bindings and the settings derived from them. */
import type { EmulatorStore } from './store.js'

/** Bindings of the emulator Worker (`src/emulator/wrangler.toml`). */
export interface EmulatorEnv {
  /** The one Durable Object holding all state. */
  EMULATOR: DurableObjectNamespace<EmulatorStore>
  /**
   * The admin secret (a Worker secret). It acts as the Organization owner's API
   * key; without it the Worker refuses every request with 500.
   */
  EMULATOR_ADMIN_SECRET?: string
  /** Organization id seeded on first start. Default {@link DEFAULT_ORGANIZATION_ID}. */
  EMULATOR_ORGANIZATION_ID?: string
  /** Modulus of the namespaces' RSA signing keys, in bits. Default 4096, as the platform's keys. */
  EMULATOR_RSA_MODULUS_BITS?: string
  /** Longest a `hang` fault holds a request, in seconds. Default 600. */
  EMULATOR_HANG_MAX_SECONDS?: string
}

/** Name of the one Durable Object instance that holds all state. */
export const EMULATOR_INSTANCE = 'emulator'

/** Default Organization id. Its default Project has the same id, as on the platform. */
export const DEFAULT_ORGANIZATION_ID = 'e3a5c1f0-5d2b-4a8e-b7c6-0f9d8e7a6b5c'
/** Id of the seeded owner user. */
export const OWNER_USER_ID = '5b2d0c7e-8f1a-4e3b-9c6d-2a4f7e1b0c9d'
/** Access key under which the admin secret appears in `GET /iam/v1alpha1/api-keys`. */
export const ADMIN_ACCESS_KEY = 'SCWEMULATORADMIN0000'
/** Regions the serverless APIs answer for. */
export const REGIONS = ['fr-par', 'nl-ams', 'pl-waw'] as const

/** Settings resolved from the bindings. */
export interface EmulatorConfig {
  organizationId: string
  /** The Organization's default Project (same id as the Organization). */
  defaultProjectId: string
  ownerUserId: string
  adminAccessKey: string
  rsaModulusBits: number
  hangMaxMs: number
}

function positiveInt(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer, got "${raw}"`)
  return value
}

/**
 * Resolves the settings. The Organization id is the one stored at first start
 * (`storedOrganizationId`), so changing the var later cannot split the state.
 * @throws {TypeError} naming a malformed var.
 */
export function resolveConfig(env: EmulatorEnv, storedOrganizationId: string | undefined): EmulatorConfig {
  const organizationId = storedOrganizationId ?? env.EMULATOR_ORGANIZATION_ID ?? DEFAULT_ORGANIZATION_ID
  const bits = positiveInt(env.EMULATOR_RSA_MODULUS_BITS, 'EMULATOR_RSA_MODULUS_BITS', 4096)
  if (bits < 2048 || bits % 1024 !== 0) throw new TypeError(`EMULATOR_RSA_MODULUS_BITS must be 2048, 3072, 4096…, got ${bits}`)
  return {
    organizationId,
    defaultProjectId: organizationId,
    ownerUserId: OWNER_USER_ID,
    adminAccessKey: ADMIN_ACCESS_KEY,
    rsaModulusBits: bits,
    hangMaxMs: positiveInt(env.EMULATOR_HANG_MAX_SECONDS, 'EMULATOR_HANG_MAX_SECONDS', 600) * 1000,
  }
}
