#!/usr/bin/env node
// `prepare` (npm runs it in a git checkout on `npm install`, never for users installing the
// published package): builds the native addon and the TypeScript layer, each only when its
// output is missing or older than its sources. npm 11 runs `prepare` a second time on the
// first `npx mmbench` in a checkout (it installs the project itself into the npx cache), and
// an interrupted build there left a broken cache; now that second run finds everything up to
// date and returns at once. `npm run build` always builds; MMNPY_FORCE_BUILD=1 forces this too.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** The newest modification time of the files under `rel` (a file or a folder) that `keep` accepts. */
function newest(rel, keep = () => true) {
  const p = path.join(root, rel);
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return keep(p) ? st.mtimeMs : 0;
  let t = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.name === 'target' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    t = Math.max(t, newest(path.join(rel, e.name), keep));
  }
  return t;
}

/** The oldest modification time among `files` (0 when one is missing). */
function oldest(files) {
  let t = Infinity;
  for (const f of files) {
    try {
      t = Math.min(t, fs.statSync(path.join(root, f)).mtimeMs);
    } catch {
      return 0;
    }
  }
  return files.length ? t : 0;
}

function build(script) {
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const r = spawnSync(npm[0], [...npm[1], 'run', script], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const force = process.env.MMNPY_FORCE_BUILD === '1';
const addons = fs.readdirSync(root).filter((f) => /^mmnpy\..+\.node$/.test(f));
const nativeSources = Math.max(newest('crates'), newest('Cargo.toml'), newest('Cargo.lock'));
if (force || !addons.length || oldest([...addons, 'binding.js', 'binding.d.ts']) < nativeSources) build('build:native');
else console.log('mmnpy: native addon up to date');

const tsSources = Math.max(newest('lib', (f) => f.endsWith('.ts')), newest('index.d.ts'), newest('tsconfig.build.json'), newest('binding.d.ts'));
const dist = path.join(root, 'dist');
const outputs = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.js')).map((f) => path.join('dist', f)) : [];
if (force || !outputs.length || oldest(outputs) < tsSources) build('build:ts');
else console.log('mmnpy: TypeScript layer up to date');
