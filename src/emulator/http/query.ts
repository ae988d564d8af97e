/** Query strings of list calls: pagination, ordering and filters. */
import type { Order } from '../db/table.js'
import { invalidArgument } from './errors.js'
import { isUuid } from './ids.js'

/** Page size when the caller gives none (the SDKs send none unless configured). */
export const DEFAULT_PAGE_SIZE = 20

/** A validated page request. */
export interface PageRequest {
  /** 1-based page number (1–10000, as the SDKs' validation rules say). */
  page: number
  /** Items per page (1–100). */
  pageSize: number
}

function integerParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^-?\d+$/.test(raw)) throw invalidArgument(name, 'format', 'must be an integer')
  const value = Number(raw)
  if (value < min || value > max) throw invalidArgument(name, 'constraint', `must be between ${min} and ${max}`)
  return value
}

/**
 * Reads `page` and `page_size`.
 * @throws {ScalewayError} 400 when either is not an integer or out of range.
 */
export function pageRequest(query: URLSearchParams): PageRequest {
  return {
    page: integerParam(query, 'page', 1, 1, 10_000),
    pageSize: integerParam(query, 'page_size', DEFAULT_PAGE_SIZE, 1, 100),
  }
}

/**
 * Reads `order_by` against the values the SDK's enum allows.
 * @throws {ScalewayError} 400 for any other value.
 */
export function orderBy<const T extends string>(query: URLSearchParams, allowed: readonly T[], fallback: T): T {
  const raw = query.get('order_by')
  if (raw === null || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) throw invalidArgument('order_by', 'format', `must be one of ${allowed.join(', ')}`)
  return raw as T
}

/**
 * A UUID filter (`organization_id`, `project_id`, …), or undefined when absent.
 * @throws {ScalewayError} 400 when present and not a UUID.
 */
export function uuidParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name)
  if (raw === null || raw === '') return undefined
  if (!isUuid(raw)) throw invalidArgument(name, 'format', 'must be a UUID')
  return raw.toLowerCase()
}

/**
 * A repeated UUID filter (`user_ids=a&user_ids=b`, or comma-separated), or
 * undefined when absent.
 */
export function uuidListParam(query: URLSearchParams, name: string): string[] | undefined {
  const values = query.getAll(name).flatMap((value) => value.split(',')).filter((value) => value !== '')
  if (values.length === 0) return undefined
  for (const value of values) if (!isUuid(value)) throw invalidArgument(name, 'format', 'must be a list of UUIDs')
  return values.map((value) => value.toLowerCase())
}

/**
 * A boolean filter (`true`/`false`), or undefined when absent.
 * @throws {ScalewayError} 400 for any other value.
 */
export function booleanParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name)
  if (raw === null || raw === '') return undefined
  if (raw !== 'true' && raw !== 'false') throw invalidArgument(name, 'format', 'must be true or false')
  return raw === 'true'
}

/** A free-text filter, or undefined when absent. */
export function stringParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name)
  return raw === null || raw === '' ? undefined : raw
}

/** Maps an `order_by` value (`<field>_asc|desc`) to a column of a fixed table. */
export function orderOf(value: string, columns: Record<string, string>): Order {
  const match = /^(.*)_(asc|desc)$/.exec(value)
  const column = match ? columns[match[1] ?? ''] : undefined
  if (!match || column === undefined) throw invalidArgument('order_by', 'format', `unsupported order ${value}`)
  return { column, direction: match[2] === 'desc' ? 'DESC' : 'ASC' }
}
