import { beforeAll, describe, expect, it } from 'vitest'
import { call, IAM, ok, unique } from './support.js'

interface AppList {
  applications: { id: string; name: string }[]
  total_count: number
}

const TAG = unique('page')
const created: string[] = []

beforeAll(async () => {
  // 23 applications sharing a tag, so this file's filter sees exactly them.
  for (let i = 0; i < 23; i += 1) {
    const app = await ok<{ id: string }>('POST', `${IAM}/applications`, { body: { name: `${TAG}-${String(i).padStart(2, '0')}`, tags: [TAG] } })
    created.push(app.id)
  }
})

describe('pagination', () => {
  it('defaults to 20 per page and counts every match in total_count', async () => {
    const first = await ok<AppList>('GET', `${IAM}/applications?tag=${TAG}`)
    expect(first.total_count).toBe(23)
    expect(first.applications.map((a) => a.id)).toEqual(created.slice(0, 20))
  })

  it('serves page 2 with the rest, in creation order', async () => {
    const second = await ok<AppList>('GET', `${IAM}/applications?tag=${TAG}&page=2&page_size=20`)
    expect(second.total_count).toBe(23)
    expect(second.applications.map((a) => a.id)).toEqual(created.slice(20))
  })

  it('answers an empty page past the end, with the total', async () => {
    const beyond = await ok<AppList>('GET', `${IAM}/applications?tag=${TAG}&page=9&page_size=5`)
    expect(beyond).toEqual({ applications: [], total_count: 23 })
  })

  it.each([
    ['name_desc', (ids: string[]) => [...ids].reverse()],
    ['created_at_desc', (ids: string[]) => [...ids].reverse()],
    ['name_asc', (ids: string[]) => ids],
  ])('orders by %s', async (order, expected) => {
    const page = await ok<AppList>('GET', `${IAM}/applications?tag=${TAG}&page_size=100&order_by=${order}`)
    expect(page.applications.map((a) => a.id)).toEqual(expected(created))
  })

  it.each([
    ['page_size=0', 'page_size', 'constraint'],
    ['page_size=101', 'page_size', 'constraint'],
    ['page_size=-3', 'page_size', 'constraint'],
    ['page_size=ten', 'page_size', 'format'],
    ['page=0', 'page', 'constraint'],
    ['page=10001', 'page', 'constraint'],
    ['order_by=sideways', 'order_by', 'format'],
  ])('refuses %s with 400 invalid_arguments', async (query, argument, reason) => {
    const res = await call('GET', `${IAM}/applications?${query}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ message: 'invalid argument(s)', type: 'invalid_arguments', details: [{ argument_name: argument, reason }] })
  })

  it.each([1, 100])('accepts page_size=%i', async (size) => {
    const page = await ok<AppList>('GET', `${IAM}/applications?tag=${TAG}&page_size=${size}`)
    expect(page.applications).toHaveLength(Math.min(size, 23))
    expect(page.total_count).toBe(23)
  })

  it.each([
    ['api-keys', 'api_keys'],
    ['users', 'users'],
    ['groups', 'groups'],
    ['policies', 'policies'],
    ['permission-sets', 'permission_sets'],
  ])('GET /iam/v1alpha1/%s answers {%s, total_count}', async (path, key) => {
    const body = await ok<Record<string, unknown>>('GET', `${IAM}/${path}?page_size=1`)
    expect(Object.keys(body).sort()).toEqual([key, 'total_count'].sort())
    expect(Array.isArray(body[key])).toBe(true)
    expect(typeof body.total_count).toBe('number')
  })
})
