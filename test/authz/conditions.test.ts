import { describe, expect, it } from 'vitest'
import { evaluate as celEvaluate } from '@marcbachmann/cel-js'
import { compileCondition, ConditionError, type ConditionRequest, type ConditionResource } from '../../src/authz/conditions.js'

const resource: ConditionResource = {
  id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
  name: 'hello',
  namespaceId: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
  namespaceName: 'demo',
  kind: 'function',
  projectId: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc',
  region: 'fr-par',
}
const request = (over: Partial<ConditionRequest> = {}): ConditionRequest => ({ ip: '192.0.2.10', userAgent: 'curl/8.5.0', time: new Date('2026-11-30T10:00:00Z'), ...over })
const evaluate = (source: string, req: Partial<ConditionRequest> = {}, res: Partial<ConditionResource> = {}) => compileCondition(source)!(request(req), { ...resource, ...res })

const OFFICE_HOURS = 'request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18'

describe('compileCondition: request.*', () => {
  it.each<[string, string, Partial<ConditionRequest>, boolean]>([
    // Europe/Paris is UTC+1 in winter, UTC+2 in summer; DST starts 2026-03-29 and ends 2026-10-25.
    ['office hours, winter 08:30 UTC = 09:30 Paris', OFFICE_HOURS, { time: new Date('2026-11-30T08:30:00Z') }, true],
    ['office hours, winter 07:30 UTC = 08:30 Paris', OFFICE_HOURS, { time: new Date('2026-11-30T07:30:00Z') }, false],
    ['office hours, the day before DST starts, 07:30 UTC = 08:30 Paris', OFFICE_HOURS, { time: new Date('2026-03-28T07:30:00Z') }, false],
    ['office hours, the day DST starts, 07:30 UTC = 09:30 Paris', OFFICE_HOURS, { time: new Date('2026-03-29T07:30:00Z') }, true],
    ['office hours, the day before DST ends, 16:30 UTC = 18:30 Paris', OFFICE_HOURS, { time: new Date('2026-10-24T16:30:00Z') }, false],
    ['office hours, the day DST ends, 16:30 UTC = 17:30 Paris', OFFICE_HOURS, { time: new Date('2026-10-25T16:30:00Z') }, true],
    ['UTC hours without a zone', 'request.time.getHours() == 10', {}, true],
    ['weekday rule on a Monday', 'request.time.getDayOfWeek() != 0 && request.time.getDayOfWeek() != 6', {}, true],
    ['weekday rule on a Sunday', 'request.time.getDayOfWeek() != 0 && request.time.getDayOfWeek() != 6', { time: new Date('2026-11-29T10:00:00Z') }, false],
    ['weekday in a zone: Sunday 23:30 UTC is Monday in Tokyo', 'request.time.getDayOfWeek("Asia/Tokyo") == 1', { time: new Date('2026-11-29T23:30:00Z') }, true],
    ['IPv4 range, inside', 'inIpRange(request.ip, "192.0.2.0/24")', {}, true],
    ['IPv4 range, outside', 'inIpRange(request.ip, "198.51.100.0/24")', {}, false],
    ['IPv6 range, inside', 'inIpRange(request.ip, "2001:db8::/32")', { ip: '2001:db8:1::5' }, true],
    ['IPv6 range, outside', 'inIpRange(request.ip, "2001:db8::/32")', { ip: '2001:db9::5' }, false],
    ['user agent contains', 'request.user_agent.contains("curl/")', {}, true],
    ['user agent does not contain', 'request.user_agent.contains("terraform/")', {}, false],
    ['user agent matches', 'request.user_agent.matches("^curl/[0-9]+\\\\.")', {}, true],
    ['user agent truncated at 255 characters', 'size(request.user_agent) == 255', { userAgent: 'x'.repeat(1000) }, true],
    ['timestamp comparison, after', 'request.time > timestamp("2026-11-01T00:00:00Z")', {}, true],
    ['timestamp comparison, before', 'request.time < timestamp("2026-11-01T00:00:00Z")', {}, false],
    ['office hours and an IP range', `${OFFICE_HOURS} && inIpRange(request.ip, "192.0.2.0/24")`, {}, true],
    ['an unknown time zone fails closed', 'request.time.getHours("Mars/Olympus") >= 0', {}, false],
    ['a bad CIDR at evaluation fails closed', 'inIpRange(request.ip, request.user_agent)', {}, false],
    ['false || true', 'false || request.ip == "192.0.2.10"', {}, true],
  ])('%s', (_, source, req, expected) => {
    expect(evaluate(source, req)).toBe(expected)
  })
})

describe('compileCondition: resource.*', () => {
  it.each<[string, string, boolean]>([
    ['namespace_id matches', `resource.namespace_id == "${resource.namespaceId}"`, true],
    ['namespace_id differs', 'resource.namespace_id == "dddddddd-dddd-4ddd-8ddd-dddddddddddd"', false],
    ['id in a list', `resource.id in ["${resource.id}", "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"]`, true],
    ['name', 'resource.name == "hello"', true],
    ['namespace name', 'resource.namespace_name == "demo"', true],
    ['kind', 'resource.kind == "container"', false],
    ['project and region', `resource.project_id == "${resource.projectId}" && resource.region == "fr-par"`, true],
    ['locality, as Scaleway names the region', 'resource.locality == "fr-par"', true],
  ])('%s', (_, source, expected) => {
    expect(evaluate(source)).toBe(expected)
  })
})

describe('compileCondition: refusals at compile time', () => {
  it('treats an empty condition as none', () => {
    expect(compileCondition('')).toBeUndefined()
    expect(compileCondition('   ')).toBeUndefined()
  })

  it.each<[string, string, RegExp]>([
    ['does not parse', 'request.ip == ', /does not parse/],
    ['unknown variable', 'user.name == "x"', /does not type-check/],
    ['unknown field', 'request.ipaddress == "x"', /does not type-check/],
    ['wrong operand type', 'request.ip == 5', /does not type-check/],
    ['not a bool', 'request.ip', /not bool/],
    ['too long', `request.ip == "${'1'.repeat(2048)}"`, /longer than 2048/],
  ])('%s', (_, source, message) => {
    expect(() => compileCondition(source)).toThrow(ConditionError)
    expect(() => compileCondition(source)).toThrow(message)
  })

  it('never puts the condition source in the message beyond the parser excerpt', () => {
    expect(() => compileCondition('request.ip == ')).toThrow(/^the condition does not parse: [^\n]*$/)
  })
})

describe('compileCondition: matches() in linear time', () => {
  it.each([
    ['^(a+)+$', false],
    ['(a|aa)*b', false],
    ['(x+x+)+y', false],
    ['^a+', true],
  ])('%s on a 255-character user agent answers %s (it would backtrack for minutes in JS RegExp)', (pattern, expected) => {
    const condition = `request.user_agent.matches("${pattern}")`
    expect(evaluate(condition, { userAgent: `${'a'.repeat(254)}!` })).toBe(expected)
  })

  it('refuses at compile time a literal pattern the linear-time matcher does not support', () => {
    expect(() => compileCondition('request.user_agent.matches("(a)\\\\1")')).toThrow(/does not parse: .*backreference/)
  })
})

describe('compileCondition: time-zone getters', () => {
  const getters = ['getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear', 'getHours', 'getMinutes', 'getSeconds']
  const instants = ['2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z', '2026-10-25T00:59:59Z', '2026-10-25T01:00:00Z', '2026-12-31T23:30:00Z', '2028-02-29T12:00:00Z', '2027-01-01T00:00:00Z']
  const zones = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC']
  const cases = getters.flatMap((getter) => instants.flatMap((at) => zones.map((zone) => [getter, at, zone] as const)))

  it.each(cases)('%s on %s in %s answers as the CEL library does', (getter, at, zone) => {
    const time = new Date(at)
    const expected = celEvaluate(`t.${getter}("${zone}")`, { t: time })
    expect(evaluate(`request.time.${getter}("${zone}") == ${expected}`, { time })).toBe(true)
  })

  it('names the getter as written when a call does not type-check', () => {
    expect(() => compileCondition('request.ip.getHours("Europe/Paris") == 1')).toThrow(/'string\.getHours\(string\)'/)
  })
})
