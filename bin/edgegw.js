#!/usr/bin/env node
// The `edgegw` command (docs/cli.md). In a checkout of the repository (src/cli and
// the tsx dev dependency present) it runs the TypeScript sources through tsx, so
// `npx edgegw` works after `npm install` without a build and is never stale; in an
// installed package it runs the build in dist/cli.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const source = `${root}src/cli/main.ts`
const built = `${root}dist/cli/main.js`

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api')
    return true
  } catch {
    return false
  }
}

// `edgegw … | head`: the reader went away; stop quietly, as other command lines do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}

let entry
if (existsSync(source) && hasTsx()) {
  const { register } = await import('tsx/esm/api')
  register()
  entry = source
} else if (existsSync(built)) {
  entry = built
} else {
  console.error('edgegw: neither the build (dist/cli/main.js: run `npm run build`) nor the sources with tsx (npm install) are here')
  process.exit(2)
}
const { main } = await import(pathToFileURL(entry).href)
process.exitCode = await main(process.argv.slice(2))
