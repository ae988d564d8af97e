/**
 * `inIpRange(ip, cidr)`, Scaleway IAM's condition function, for IPv4 and IPv6.
 *
 * Written here rather than taken from `ipaddr.js` (about 3.5 KB gzip) because the
 * Worker's bundle budget is spent on the CEL library; the parsing is strict (no
 * octal or shortened IPv4 forms, which `inet_aton` accepts and a policy author does
 * not mean), and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address.
 */
import { BoundedMap } from '../util/bounded-map.js'

/** An address as 4 or 16 bytes. */
export type IpBytes = Uint8Array

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const HEXTET = /^[0-9a-f]{1,4}$/i

function parseIpv4(text: string): IpBytes | undefined {
  const m = IPV4.exec(text)
  return m ? Uint8Array.from(m.slice(1), Number) : undefined
}

function parseIpv6(text: string): IpBytes | undefined {
  // A zone (`fe80::1%eth0`) names an interface of the host, never a client: refused.
  if (text.includes('%') || text.length > 45) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (half: string): string[] | undefined => (half === '' ? [] : half.split(':'))
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return undefined
  const words: number[] = []
  const push = (parts: string[], last: boolean): boolean => {
    for (const [i, part] of parts.entries()) {
      if (last && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part)
        if (!v4) return false
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else if (HEXTET.test(part)) {
        words.push(Number.parseInt(part, 16))
      } else {
        return false
      }
    }
    return true
  }
  const tailIsLast = halves.length === 2
  if (!push(head, !tailIsLast)) return undefined
  const headWords = words.length
  if (!push(tail, tailIsLast)) return undefined
  const tailWords = words.length - headWords
  if (halves.length === 2) {
    if (headWords + tailWords > 7) return undefined
    words.splice(headWords, 0, ...new Array<number>(8 - headWords - tailWords).fill(0))
  }
  if (words.length !== 8) return undefined
  const bytes = new Uint8Array(16)
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8
    bytes[2 * i + 1] = word & 0xff
  })
  return bytes
}

/** Parses an IPv4 or IPv6 address; an IPv4-mapped IPv6 address comes back as its 4 IPv4 bytes. */
export function parseIp(text: string): IpBytes | undefined {
  if (text.includes(':')) {
    const bytes = parseIpv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text)
    if (bytes && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12)
    return bytes
  }
  return parseIpv4(text)
}

/** A CIDR block: the network's bytes and its prefix length. */
export interface IpRange {
  network: IpBytes
  prefixLength: number
}

/** Parses `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): IpRange | undefined {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const network = address.includes(':') ? parseIpv6(address) : parseIpv4(address)
  if (!network) return undefined
  const max = network.length * 8
  if (slash === -1) return { network, prefixLength: max }
  const length = text.slice(slash + 1)
  if (!/^(0|[1-9]\d{0,2})$/.test(length) || Number(length) > max) return undefined
  return { network, prefixLength: Number(length) }
}

/** Is the address inside the range? Addresses of the other family never are. */
export function ipInRange(ip: IpBytes, range: IpRange): boolean {
  let network = range.network
  let prefixLength = range.prefixLength
  // `::ffff:0:0/96` and narrower IPv4-mapped ranges hold IPv4 addresses.
  if (ip.length === 4 && network.length === 16 && prefixLength >= 96 && network.subarray(0, 10).every((b) => b === 0) && network[10] === 0xff && network[11] === 0xff) {
    network = network.slice(12)
    prefixLength -= 96
  }
  if (ip.length !== network.length) return false
  const whole = prefixLength >> 3
  for (let i = 0; i < whole; i++) if (ip[i] !== network[i]) return false
  const bits = prefixLength & 7
  if (bits === 0) return true
  const mask = (0xff << (8 - bits)) & 0xff
  return (ip[whole]! & mask) === (network[whole]! & mask)
}

const ranges = new BoundedMap<string, IpRange | null>(256)

/**
 * Scaleway's `inIpRange(ip, subnet)`.
 * @throws {RangeError} when the subnet is not a CIDR block (a policy error: the condition fails closed).
 */
export function inIpRange(ip: string, cidr: string): boolean {
  // A condition's subnets are literals: each is parsed once (bounded), the address on every request.
  const range = ranges.get(cidr) ?? ranges.set(cidr, parseCidr(cidr) ?? null)
  if (!range) throw new RangeError('inIpRange: the subnet is not an IPv4 or IPv6 CIDR block')
  const address = parseIp(ip)
  return address !== undefined && ipInRange(address, range)
}
