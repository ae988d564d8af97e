/**
 * Rule conditions (IAM "advanced access control", CEL): stored and answered
 * exactly as sent; refused as the platform refuses them (over 2048 characters,
 * or not a CEL expression).
 */
import { describe, expect, it } from 'vitest'
import { applicationWithKey, call, IAM, info, ok, unique } from './support.js'

interface Rule {
  id: string
  condition: string
}

/** Creates a policy without a principal holding one rule with this condition; answers the call. */
async function policyWith(condition: unknown) {
  const { organization_id } = await info()
  const rule = { permission_set_names: ['IAMReadOnly'], organization_id, ...(condition === undefined ? {} : { condition }) }
  return call<{ id: string }>('POST', `${IAM}/policies`, { body: { name: unique('cond'), no_principal: true, rules: [rule] } })
}

/** The one rule of a policy, as `GET /rules` lists it. */
async function onlyRule(policyId: string): Promise<Rule> {
  const listed = await ok<{ rules: Rule[] }>('GET', `${IAM}/rules?policy_id=${policyId}`)
  expect(listed.rules).toHaveLength(1)
  return listed.rules[0]!
}

const EXACT = [
  ['a comparison', '1 == 1'],
  ['single quotes', "request.user_agent == 'terraform-test'"],
  ['an IP range with surrounding spaces', '  request.ip.inIpRange("10.0.0.0/8")  '],
  ['a newline and a tab', 'request.time.getHours("Europe/Paris") >= 8 &&\n\trequest.time.getHours("Europe/Paris") < 18'],
  ['non-ASCII text', 'request.user_agent == "défi ✓"'],
  ['2048 characters', `"${'a'.repeat(2046)}"`],
  ['2048 characters outside the BMP', `"${'😀'.repeat(2046)}"`],
] as const

describe('rule conditions', () => {
  it.each(EXACT)('stores and answers %s exactly as sent', async (_case, condition) => {
    const created = await policyWith(condition)
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect((await onlyRule(created.body.id)).condition).toBe(condition)

    const replaced = await ok<{ rules: Rule[] }>('PUT', `${IAM}/rules`, {
      body: { policy_id: created.body.id, rules: [{ permission_set_names: ['IAMManager'], organization_id: (await info()).organization_id, condition }] },
    })
    expect(replaced.rules[0]!.condition).toBe(condition)
    const clone = await ok<{ id: string }>('POST', `${IAM}/policies/${created.body.id}/clone`, { body: {} })
    expect((await onlyRule(clone.id)).condition).toBe(condition)
  })

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['null', null],
  ])('answers "" for a condition that is %s (no condition)', async (_case, condition) => {
    const created = await policyWith(condition)
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect((await onlyRule(created.body.id)).condition).toBe('')
  })

  it('refuses a condition over 2048 characters', async () => {
    const res = await policyWith(`"${'a'.repeat(2047)}"`)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      details: [{ argument_name: 'rules.0.condition', help_message: 'must be at most 2048 characters', reason: 'constraint' }],
      message: 'invalid argument(s)',
      type: 'invalid_arguments',
    })
  })

  it.each([
    ['an unfinished comparison', '1 ==', 'condition does not parse: Unexpected token: EOF (at offset 4)'],
    ['an unclosed call', 'request.ip.inIpRange("10.0.0.0/8"', 'condition does not parse: Expected RPAREN, got EOF (at offset 33)'],
    ['only spaces', '   ', 'condition does not parse: Unexpected token: EOF (at offset 3)'],
    ['a stray character after text outside the BMP', '"😀😀" x', "condition does not parse: Unexpected character: 'x' (at offset 5)"],
  ])('refuses %s, naming the argument and the parser’s reason', async (_case, condition, help) => {
    const res = await policyWith(condition)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      details: [{ argument_name: 'rules.0.condition', help_message: help, reason: 'format' }],
      message: 'invalid argument(s)',
      type: 'invalid_arguments',
    })
  })

  it('refuses a bad condition in PUT /rules and leaves the policy’s rules as they were', async () => {
    const created = await policyWith('1 == 1')
    const { organization_id } = await info()
    const res = await call('PUT', `${IAM}/rules`, {
      body: {
        policy_id: created.body.id,
        rules: [
          { permission_set_names: ['IAMReadOnly'], organization_id, condition: 'true' },
          { permission_set_names: ['IAMReadOnly'], organization_id, condition: 'request.ip ==' },
        ],
      },
    })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ type: 'invalid_arguments', details: [{ argument_name: 'rules.1.condition', reason: 'format' }] })
    expect((await onlyRule(created.body.id)).condition).toBe('1 == 1')
  })

  it('still grants nothing through a rule with a condition (the emulator does not evaluate CEL)', async () => {
    const { organization_id } = await info()
    const { applicationId, secret } = await applicationWithKey()
    await ok('POST', `${IAM}/policies`, {
      body: { name: unique('p'), application_id: applicationId, rules: [{ permission_set_names: ['IAMManager'], organization_id, condition: 'true' }] },
    })
    expect((await call('GET', `${IAM}/users`, { token: secret })).status).toBe(403)
  })
})
