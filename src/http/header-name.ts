/**
 * A header name as the origin may read it: lower case, `_` as `-`. CGI, WSGI,
 * Rack and PHP turn both `X-Consumer-ID` and `x_consumer_id` into
 * `HTTP_X_CONSUMER_ID`, so the two are one header to them; Kong reads
 * `api_key` and `api-key` as one too.
 * @example
 * ```ts
 * canonicalHeaderName('X_Api_Key') // 'x-api-key'
 * ```
 */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-')
}
