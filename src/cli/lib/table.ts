/**
 * Aligned tables for people, in the manner of `gh` and `scwgw`: upper-case
 * headers, columns two spaces apart, no trailing spaces.
 */

/** One column: its header and how a row shows in it. */
export interface Column<Row> {
  header: string
  value: (row: Row) => string | number | boolean | null | undefined
}

/** `null`, `undefined` and the empty string show as `-`, so every cell has something to read. */
export function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-'
  // One line per row: a value with a line break (a PEM) would break the alignment.
  return String(value).replace(/[\r\n\t]+/g, ' ')
}

/** The printed width of a string: its code points (no East Asian wide characters in this CLI's values). */
function width(text: string): number {
  return [...text].length
}

/**
 * Formats rows as an aligned table, a header line first; every line ends with `\n`.
 * @example
 * ```ts
 * formatTable([{ header: 'ID', value: (r) => r.id }], [{ id: 'app' }]) // 'ID\napp\n'
 * ```
 */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((row) => columns.map((c) => cell(c.value(row))))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => width(line[i]!))))
  return cells
    .map((line) =>
      line
        .map((text, i) => (i === line.length - 1 ? text : text + ' '.repeat(widths[i]! - width(text))))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('')
}

/** `key: value` lines, keys aligned, for one record (`route show`). */
export function formatFields(fields: readonly (readonly [string, string | number | boolean | null | undefined])[]): string {
  const keyWidth = Math.max(...fields.map(([key]) => width(key)))
  return fields.map(([key, value]) => `${key}:${' '.repeat(keyWidth - width(key) + 1)}${cell(value)}\n`).join('')
}
