import type { BodyFields } from './binary.js'

/**
 * The named fields of an `application/x-www-form-urlencoded` body (a binary
 * string). The pairs are cut out of the raw text, never re-serialised, so every
 * other byte stays as sent (`%20` stays `%20`, `flag` stays `flag`); a name is
 * compared decoded, as a form parser reads it (`api%5Fkey` is `api_key`).
 * @example
 * ```ts
 * formFields('a=1&api_key=K&b=x%20y', ['api_key']) // { values: [{ name: 'api_key', value: 'K' }], rest: 'a=1&b=x%20y' }
 * ```
 */
export function formFields(body: string, names: readonly string[]): BodyFields {
  const values: BodyFields['values'] = []
  const kept: string[] = []
  for (const pair of body.split('&')) {
    const eq = pair.indexOf('=')
    const name = formName(eq < 0 ? pair : pair.slice(0, eq))
    if (names.includes(name)) values.push({ name, value: eq < 0 ? '' : (new URLSearchParams(`v=${pair.slice(eq + 1)}`).get('v') ?? '') })
    else kept.push(pair)
  }
  return { values, rest: values.length === 0 ? body : kept.join('&') }
}

/** A name decoded as `URLSearchParams` (and so the origin's form parser) reads it. */
function formName(raw: string): string {
  for (const [name] of new URLSearchParams(`${raw}=`)) return name
  return ''
}
