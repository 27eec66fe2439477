// The fixtures make_dtype_fixtures.py writes, and values of datetime, string and record arrays as
// its manifest encodes them.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import type { NdArray } from '../../index'

/** A `.npy` file of the manifest. */
export interface DtypeFixture { file: string; dtype: string; byteOrder: string; shape: number[]; fortranOrder: boolean; fields: unknown; values: unknown[] }

/** make_dtype_fixtures.py's output in `fixtures/generated/<folder>` (written when missing): the folder, its manifest, a file's path. */
export function dtypeFixtures<M>(folder: string): { dir: string; manifest: M; file: (f: string) => string } {
  const fixtures = path.join(__dirname, '..', 'fixtures')
  const dir = path.join(fixtures, 'generated', folder)
  const manifest = path.join(dir, 'manifest.json')
  if (!fs.existsSync(manifest)) execFileSync('python3', [path.join(fixtures, 'make_dtype_fixtures.py'), dir], { stdio: 'inherit' })
  return { dir, manifest: JSON.parse(fs.readFileSync(manifest, 'utf8')) as M, file: (f) => path.join(dir, f) }
}

/** A value as the manifest encodes it (see make_dtype_fixtures.py). */
export function canon(v: unknown): unknown {
  if (v === null) return null
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return 'hex:' + Buffer.from(v).toString('hex')
  if (Array.isArray(v)) return v.map(canon)
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if (Object.keys(o).length === 2 && typeof o.re === 'number' && typeof o.im === 'number') return [o.re, o.im]
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, canon(x)]))
  }
  return v
}

/** Every element of `a` in C order, encoded as the manifest does. */
export function flat(a: NdArray): unknown[] {
  const out: unknown[] = []
  const walk = (x: unknown, depth: number) => {
    if (depth === a.ndim) out.push(canon(x))
    else for (const y of x as unknown[]) walk(y, depth + 1)
  }
  walk(a.toArray(), 0)
  return out
}
