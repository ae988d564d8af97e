import { expect, it } from 'vitest'
import { call, IAM } from './support.js'

it('answers the seeded owner', async () => {
  const res = await call<{ users: { type: string }[]; total_count: number }>('GET', `${IAM}/users`)
  expect(res.status).toBe(200)
  expect(res.body.users.map((u) => u.type)).toContain('owner')
})
