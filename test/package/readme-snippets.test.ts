import { readdir, readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { repoPath } from './support.js'

/** Each TypeScript block of the README, with the file its `<!-- example: … -->` line names. */
async function readmeSnippets(): Promise<{ file: string | undefined; code: string }[]> {
  const readme = await readFile(repoPath('README.md'), 'utf8')
  return [...readme.matchAll(/(?:<!-- example: (\S+) -->\n)?```ts\n([\s\S]*?)```/g)].map((match) => ({ file: match[1], code: match[2]! }))
}

describe('the README', () => {
  it('has no TypeScript snippet that is not an example project file', async () => {
    const snippets = await readmeSnippets()
    expect(snippets.length).toBeGreaterThan(0)
    expect(snippets.filter((snippet) => snippet.file === undefined).map((snippet) => snippet.code.split('\n')[0])).toEqual([])
  })

  it('shows each example file exactly as it is in examples/ (which npm test builds and runs)', async () => {
    for (const { file, code } of await readmeSnippets()) {
      expect(file).toMatch(/^examples\//)
      expect(code, `README snippet of ${file}`).toBe(await readFile(repoPath(file!), 'utf8'))
    }
  })

  it('shows the entry point of every example project', async () => {
    const shown = new Set((await readmeSnippets()).map((snippet) => snippet.file))
    const projects = (await readdir(repoPath('examples'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
    expect(projects.sort()).toEqual(['node', 'worker'])
    expect([...shown].sort()).toEqual(['examples/node/src/server.ts', 'examples/worker/src/index.ts'])
  })
})
