// The README's first command in a checkout: `npm install && npx mmbench`. npm 11 installs the
// project itself into the npx cache on the first `npx mmbench` and runs `prepare` again there;
// `prepare` (scripts/prepare.js) must then find the build up to date instead of building a
// second time, so the first `npx mmbench` starts at once and cannot leave a half-built cache.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const ROOT = path.resolve(__dirname, '..')

test.serial('prepare builds nothing when the build is up to date', (t) => {
  // Brings a stale checkout up to date first (a no-op right after npm install).
  const first = spawnSync(process.execPath, ['scripts/prepare.js'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 })
  t.is(first.status, 0, first.stderr)
  const again = spawnSync(process.execPath, ['scripts/prepare.js'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.is(again.status, 0, again.stderr)
  t.regex(again.stdout, /native addon up to date/)
  t.regex(again.stdout, /TypeScript layer up to date/)
})

test.serial('the first `npx mmbench` in a checkout (fresh npx cache) runs without building again', (t) => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-npx-cache-'))
  t.teardown(() => fs.rmSync(cache, { recursive: true, force: true }))
  const env = { ...process.env, npm_config_cache: cache, npm_config_update_notifier: 'false' }
  for (const run of [1, 2]) {
    const r = spawnSync('npx', ['mmbench', '--help'], { cwd: ROOT, encoding: 'utf8', env, timeout: 180_000 })
    const all = `${r.stdout}\n${r.stderr}`
    t.is(r.status, 0, `run ${run}: ${all}`)
    t.regex(r.stdout, /^Usage: mmbench/m, `run ${run}`)
    t.notRegex(all, /build:native|Compiling mmnpy|tsc -p/, `run ${run} built again: ${all}`)
  }
})
