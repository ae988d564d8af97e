import { describe, expect, it } from 'vitest'
import { preparedProblemJson, problemJson, type Problem } from '../../src/http/problem-json.js'

describe('preparedProblemJson', () => {
  it.each<[string, Omit<Problem, 'requestId'>, Record<string, string>]>([
    ['a bare problem', { status: 401, code: 'credentials_missing', title: 'Unauthorized', detail: 'This endpoint requires a credential.' }, { 'www-authenticate': 'Bearer realm="r"' }],
    ['with an extension', { status: 503, code: 'config_invalid', title: 'Service Unavailable', detail: 'x "quoted"', extensions: { setting: 'ORIGIN_AUTH_TOKEN' } }, {}],
  ])('answers the same bytes and headers as problemJson (%s)', async (_, problem, headers) => {
    const requestId = 'req-"1"'
    const once = problemJson({ ...problem, requestId }, headers)
    const prepared = preparedProblemJson(problem, headers)(requestId)
    expect(prepared.status).toBe(once.status)
    expect([...prepared.headers]).toEqual([...once.headers])
    expect(await prepared.text()).toBe(await once.text())
  })

  it('makes a new response for each request id', async () => {
    const render = preparedProblemJson({ status: 404, code: 'route_not_found', title: 'Not Found', detail: 'No route matches this path.' })
    const [a, b] = [render('a'), render('b')]
    expect(a).not.toBe(b)
    expect(((await b.json()) as { request_id: string }).request_id).toBe('b')
    expect(a.headers.get('x-request-id')).toBe('a')
  })
})
