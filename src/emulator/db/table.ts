/** A resource table: JSON documents plus the columns list calls filter on. */
import type { PageRequest } from '../http/query.js'
import { RESOURCE_TABLES, type ResourceTableName } from './schema.js'

/** A value SQLite stores. */
export type SqlValue = string | number | null

/** A WHERE fragment with its bound parameters. Column names come from code, never from a request. */
export interface Condition {
  sql: string
  params: SqlValue[]
}

/** `column = value`. */
export function eq(column: string, value: SqlValue): Condition {
  return value === null ? { sql: `${column} IS NULL`, params: [] } : { sql: `${column} = ?`, params: [value] }
}

/** `column IN (values)`; an empty list matches nothing. */
export function oneOf(column: string, values: readonly SqlValue[]): Condition {
  if (values.length === 0) return { sql: '0', params: [] }
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] }
}

/** The JSON array at `$.{field}` of the document shares a value with `values`. */
export function docArrayHasAny(field: string, values: readonly string[]): Condition {
  if (values.length === 0) return { sql: '0', params: [] }
  return {
    sql: `EXISTS (SELECT 1 FROM json_each(doc, '$.${field}') WHERE value IN (${values.map(() => '?').join(', ')}))`,
    params: [...values],
  }
}

/** Case-insensitive substring match. */
export function contains(column: string, text: string): Condition {
  return { sql: `instr(lower(${column}), lower(?)) > 0`, params: [text] }
}

/** A raw fragment. */
export function raw(sql: string, ...params: SqlValue[]): Condition {
  return { sql, params }
}

/** Sort order; the column comes from a fixed mapping of the API's `order_by` enum. */
export interface Order {
  column: string
  direction: 'ASC' | 'DESC'
}

/** One page of a list, with the count of every matching row. */
export interface Page<Doc> {
  items: Doc[]
  total: number
}

function whereClause(conditions: readonly Condition[]): { sql: string; params: SqlValue[] } {
  if (conditions.length === 0) return { sql: '', params: [] }
  return { sql: ` WHERE ${conditions.map((c) => `(${c.sql})`).join(' AND ')}`, params: conditions.flatMap((c) => c.params) }
}

/**
 * Typed access to one resource table. `columnsOf` derives the filter columns
 * from a document, so the two never disagree.
 */
export class Table<Doc> {
  private readonly columns: readonly string[]

  constructor(
    private readonly sql: SqlStorage,
    private readonly name: ResourceTableName,
    private readonly idOf: (doc: Doc) => string,
    private readonly columnsOf: (doc: Doc) => Record<string, SqlValue>,
  ) {
    this.columns = RESOURCE_TABLES[name]
  }

  private values(doc: Doc, extra: Record<string, SqlValue>): SqlValue[] {
    const derived = { ...this.columnsOf(doc), ...extra }
    return this.columns.map((column) => derived[column] ?? null)
  }

  /** Inserts a document; `extra` sets columns the document does not show (a secret's digest). */
  insert(doc: Doc, extra: Record<string, SqlValue> = {}): void {
    const names = ['id', ...this.columns, 'doc']
    this.sql.exec(
      `INSERT INTO ${this.name} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
      this.idOf(doc),
      ...this.values(doc, extra),
      JSON.stringify(doc),
    )
  }

  /** Replaces a document (and its derived columns); columns it does not derive are kept. */
  update(doc: Doc): void {
    const derived = this.columnsOf(doc)
    const names = Object.keys(derived).filter((column) => this.columns.includes(column))
    this.sql.exec(
      `UPDATE ${this.name} SET ${[...names.map((column) => `${column} = ?`), 'doc = ?'].join(', ')} WHERE id = ?`,
      ...names.map((column) => derived[column] ?? null),
      JSON.stringify(doc),
      this.idOf(doc),
    )
  }

  /** The document with this id, or undefined. */
  get(id: string): Doc | undefined {
    const row = this.sql.exec<{ doc: string }>(`SELECT doc FROM ${this.name} WHERE id = ?`, id).toArray()[0]
    return row === undefined ? undefined : (JSON.parse(row.doc) as Doc)
  }

  /** The first document matching, in insertion order, or undefined. */
  find(conditions: readonly Condition[]): Doc | undefined {
    return this.all(conditions)[0]
  }

  /** Every matching document, in insertion order unless told. */
  all(conditions: readonly Condition[] = [], order?: Order): Doc[] {
    const where = whereClause(conditions)
    const orderSql = order ? ` ORDER BY ${order.column} ${order.direction}, seq ${order.direction}` : ' ORDER BY seq'
    return this.sql
      .exec<{ doc: string }>(`SELECT doc FROM ${this.name}${where.sql}${orderSql}`, ...where.params)
      .toArray()
      .map((row) => JSON.parse(row.doc) as Doc)
  }

  /** One page of the matching documents and their total count. */
  list(conditions: readonly Condition[], order: Order, page: PageRequest): Page<Doc> {
    const where = whereClause(conditions)
    const total = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.name}${where.sql}`, ...where.params).one().n
    const items = this.sql
      .exec<{ doc: string }>(
        `SELECT doc FROM ${this.name}${where.sql} ORDER BY ${order.column} ${order.direction}, seq ${order.direction} LIMIT ? OFFSET ?`,
        ...where.params,
        page.pageSize,
        (page.page - 1) * page.pageSize,
      )
      .toArray()
      .map((row) => JSON.parse(row.doc) as Doc)
    return { items, total }
  }

  /** How many rows match. */
  count(conditions: readonly Condition[] = []): number {
    const where = whereClause(conditions)
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.name}${where.sql}`, ...where.params).one().n
  }

  /** Deletes every matching row; returns how many went. */
  deleteWhere(conditions: readonly Condition[]): number {
    const where = whereClause(conditions)
    return this.sql.exec(`DELETE FROM ${this.name}${where.sql}`, ...where.params).rowsWritten
  }

  /** Deletes one row by id; returns whether it existed. */
  delete(id: string): boolean {
    return this.deleteWhere([eq('id', id)]) > 0
  }
}
