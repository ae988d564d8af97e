import { exports } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { ADMIN, applicationWithKey, BASE, call, FN, IAM } from './support.js'

const FAULTS = `${BASE}/emulator/faults`
const setFaults = (body: unknown) => call('POST', FAULTS, { body })

afterEach(async () => {
  expect((await setFaults({ mode: 'none' })).status).toBe(200)
})

/** A GET whose body is read as text, since a fault may make it anything but JSON. */
async function raw(url: string): Promise<{ status: number; text: string }> {
  const res = await exports.default.fetch(new Request(url, { headers: { 'x-auth-token': ADMIN } }))
  return { status: res.status, text: await res.text() }
}

describe('the fault switch', () => {
  it('answers its setting, and refuses anything but the admin secret', async () => {
    expect((await call('GET', FAULTS)).body).toEqual({ mode: 'none', paths: 'iam' })
    const { secret } = await applicationWithKey()
    expect((await call('POST', FAULTS, { token: secret, body: { mode: 'error500' } })).status).toBe(403)
    expect((await call('POST', FAULTS, { token: null, body: { mode: 'error500' } })).status).toBe(401)
    const bad = await setFaults({ mode: 'explode' })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ type: 'invalid_arguments', details: [{ argument_name: 'mode' }] })
  })

  it.each([
    ['error500', 'iam', `${IAM}/api-keys`, 500],
    ['error500', 'iam', `${FN}/namespaces`, 200],
    ['error500', 'all', `${FN}/namespaces`, 500],
    ['garbage', 'iam', `${IAM}/users`, 200],
    ['garbage', 'iam', `${FN}/namespaces`, 200],
  ])('%s on %s paths: GET %s → %i', async (mode, paths, url, status) => {
    expect((await setFaults({ mode, paths })).body).toEqual({ mode, paths })
    const res = await raw(url)
    expect(res.status).toBe(status)
    const affected = paths === 'all' || url.startsWith(IAM)
    if (mode === 'garbage' && affected) expect(() => JSON.parse(res.text)).toThrow()
    else expect(() => JSON.parse(res.text)).not.toThrow()
  })

  it('applies before authentication, as an outage would', async () => {
    await setFaults({ mode: 'error500', paths: 'iam' })
    expect((await call('GET', `${IAM}/users`, { token: null })).status).toBe(500)
  })

  it('holds requests while set to hang, and lets them go when set back', async () => {
    await setFaults({ mode: 'hang', paths: 'iam' })
    let settled = false
    const pending = raw(`${IAM}/users`).then((res) => {
      settled = true
      return res
    })
    const winner = await Promise.race([pending.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 400))])
    expect(winner).toBe('still waiting')
    expect(settled).toBe(false)
    // Other paths still answer meanwhile.
    expect((await raw(`${FN}/namespaces`)).status).toBe(200)
    await setFaults({ mode: 'none' })
    const res = await pending
    expect(res.status).toBe(200)
  })
})
