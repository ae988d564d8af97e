/**
 * Where a command writes: results on stdout (a table or text for people, JSON
 * with `--json`), notes and progress on stderr. Progress is drawn only when
 * stderr is a terminal, so a script or a pipe sees nothing of it.
 */
import { formatFields, formatTable, type Column } from './table.js'

/** What a command talks to; `process` in real use, buffers in tests. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown; isTTY?: boolean }
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  env: Record<string, string | undefined>
  /** The clock, for ages and expiries. */
  now: () => number
}

/** A progress line on stderr; every method is a no-op when stderr is not a terminal. */
export interface Progress {
  /** Shows `label: done/total`, `label: done` when the total is unknown, or `label…` with no count. */
  update(done?: number, total?: number): void
  /** Clears the line. */
  end(): void
}

/** Writes a command's results in the mode the user asked for. */
export class Output {
  constructor(
    readonly io: Io,
    /** `--json`: results as JSON on stdout, nothing else there. */
    readonly json: boolean,
  ) {}

  /** A result as JSON (two-space indented, one trailing newline). */
  writeJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** Text for people on stdout. */
  write(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** An aligned table on stdout; when there are no rows, `empty` goes to stderr and stdout stays empty. */
  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[], empty: string): void {
    if (rows.length === 0) this.note(empty)
    else this.io.stdout.write(formatTable(columns, rows))
  }

  /** `key: value` lines on stdout. */
  fields(fields: readonly (readonly [string, string | number | boolean | null | undefined])[]): void {
    this.io.stdout.write(formatFields(fields))
  }

  /** A note for people on stderr (hints, what happens next); never part of a result. */
  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** A progress line on stderr, drawn only when stderr is a terminal. */
  progress(label: string): Progress {
    const stderr = this.io.stderr
    if (!stderr.isTTY) return { update() {}, end() {} }
    let drawn = false
    return {
      update(done, total) {
        stderr.write(`\r\x1b[2K${label}${done === undefined ? '…' : `: ${done}${total === undefined ? '' : `/${total}`}`}`)
        drawn = true
      },
      end() {
        if (drawn) stderr.write('\r\x1b[2K')
        drawn = false
      },
    }
  }
}
