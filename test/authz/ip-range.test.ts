import { describe, expect, it } from 'vitest'
import { inIpRange, parseCidr, parseIp } from '../../src/authz/ip-range.js'

describe('inIpRange', () => {
  it.each<[string, string, boolean]>([
    ['192.0.2.10', '192.0.2.0/24', true],
    ['192.0.3.10', '192.0.2.0/24', false],
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.0.0.1', '10.0.0.0/8', false],
    ['203.0.113.7', '203.0.113.7/32', true],
    ['203.0.113.8', '203.0.113.7/32', false],
    ['203.0.113.8', '203.0.113.7', false],
    ['203.0.113.7', '203.0.113.7', true],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['172.16.5.4', '172.16.0.0/12', true],
    ['172.32.0.1', '172.16.0.0/12', false],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::/32', true],
    ['2001:db8:abcd:12::1', '2001:db8:abcd:0010::/60', true],
    ['2001:db8:abcd:20::1', '2001:db8:abcd:0010::/60', false],
    ['::1', '::1/128', true],
    ['::', '::/0', true],
    ['fe80::1', '::/0', true],
    ['::ffff:192.0.2.10', '192.0.2.0/24', true],
    ['192.0.2.10', '::ffff:192.0.2.0/120', true],
    ['192.0.2.10', '2001:db8::/32', false],
    ['2001:db8::1', '0.0.0.0/0', false],
    ['[2001:db8::1]', '2001:db8::/32', true],
    ['not-an-ip', '0.0.0.0/0', false],
    ['01.2.3.4', '0.0.0.0/0', false],
    ['1.2.3', '0.0.0.0/0', false],
    ['256.1.1.1', '0.0.0.0/0', false],
    ['1::2::3', '::/0', false],
    ['1:2:3:4:5:6:7:8:9', '::/0', false],
    ['fe80::1%eth0', '::/0', false],
  ])('%s in %s: %s', (ip, cidr, expected) => {
    expect(inIpRange(ip, cidr)).toBe(expected)
  })

  it.each(['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/08', 'banana', '10.0.0.0/-1'])('refuses the subnet %s', (cidr) => {
    expect(() => inIpRange('10.0.0.1', cidr)).toThrow(RangeError)
  })

  it('parses IPv6 forms into 16 bytes and mapped IPv4 into 4', () => {
    expect(parseIp('::ffff:1.2.3.4')).toEqual(Uint8Array.from([1, 2, 3, 4]))
    expect(parseIp('64:ff9b::1.2.3.4')?.length).toBe(16)
    expect(parseCidr('2001:db8::/32')?.prefixLength).toBe(32)
  })
})

describe('inIpRange with a subnet seen before (parsed once)', () => {
  it('answers for each address as the first time, and still refuses a subnet that is not one', () => {
    for (let i = 0; i < 2; i++) {
      expect(inIpRange('10.1.2.3', '10.0.0.0/8')).toBe(true)
      expect(inIpRange('11.1.2.3', '10.0.0.0/8')).toBe(false)
      expect(() => inIpRange('10.0.0.1', '10.0.0.0/33')).toThrow(RangeError)
    }
  })
})
