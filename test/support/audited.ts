import { vi } from 'vitest'

/**
 * Runs `run` while recording every `console.log` line, and returns its result with
 * the admin API's audit lines (`{"type":"audit",…}`) parsed, and every line as written.
 */
export async function audited<T>(run: () => Promise<T>): Promise<{ result: T; audit: Record<string, any>[]; raw: string[] }> {
  const raw: string[] = []
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void raw.push(args.map(String).join(' ')))
  try {
    const result = await run()
    const audit = raw.flatMap((line) => {
      try {
        const parsed = JSON.parse(line)
        return parsed?.type === 'audit' ? [parsed] : []
      } catch {
        return []
      }
    })
    return { result, audit, raw }
  } finally {
    spy.mockRestore()
  }
}
