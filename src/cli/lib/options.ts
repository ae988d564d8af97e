/** Small pieces shared by the command definitions. */
import { UsageError } from './errors.js'

/** Collects a repeatable option, each value also split on commas: `-m GET,POST -m PUT` → `['GET', 'POST', 'PUT']`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((part) => part.trim()).filter((part) => part !== '')]
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Whether a string is a UUID (ids in this API are). */
export function isUuid(text: string): boolean {
  return UUID.test(text)
}

/** A path segment for a URL: ids, usernames and keys may hold `/` or `:`. */
export const seg = (text: string): string => encodeURIComponent(text)

/**
 * Checks a value against a list of choices.
 * @throws {UsageError} naming the option and the choices.
 */
export function oneOf<T extends string>(value: string, choices: readonly T[], option: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new UsageError(`${option}: "${value}" is not one of ${choices.join(', ')}`)
}

/** Text for an `Examples:` section of `--help`. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`
}
