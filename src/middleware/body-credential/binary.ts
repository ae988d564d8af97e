/**
 * Bodies as binary strings (one UTF-16 code unit per byte, 0–255): the forms
 * the gateway reads have ASCII syntax, so it can find and cut fields in the
 * bytes without decoding them, and every byte it keeps goes back unchanged.
 * @module
 */

/** One character per byte. */
export function toBinary(bytes: Uint8Array): string {
  let text = ''
  // In slices: a spread of a whole 1 MiB body would overflow the call stack.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return text
}

/** The bytes of a binary string. */
export function fromBinary(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}

/** A binary string's bytes read as UTF-8 (invalid sequences as U+FFFD). */
export function utf8(binary: string): string {
  return new TextDecoder().decode(fromBinary(binary))
}

/** The fields of one body format: the values of the named fields, and the body without them. */
export interface BodyFields {
  /** Each occurrence of a named field, in body order. */
  values: { name: string; value: string }[]
  /** The body without those fields, as a binary string; the input itself when none was found. */
  rest: string
}
