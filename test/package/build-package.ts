/**
 * Global setup of the `package` test project: builds the package (`npm run build`,
 * the same `dist/` that `npm pack` ships) once, so the examples import
 * `edge-auth-gateway` by its name and get what a user installs.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

export default async function buildPackage(): Promise<void> {
  await promisify(execFile)('npm', ['run', 'build'], { cwd: new URL('../..', import.meta.url).pathname })
}
