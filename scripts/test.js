#!/usr/bin/env node
// The test command (`npm test`): NumPy fixtures, then `cargo test` and the ava suite.
// Streams both outputs and ends with one line: `N passed, M failed` (sum of both).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const python = process.env.PYTHON || 'python3';

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('error', (e) => resolve({ code: 127, out: `${out}\n${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function sum(re, text) {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

async function main() {
  const addon = fs.readdirSync(root).some((f) => f.endsWith('.node'));
  if (!addon) {
    console.error('mmnpy: the native addon is not built; run `npm install` (or `npm run build`) first');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  let failed = 0;
  let passed = 0;
  // Every failing test's line, repeated at the end: CI keeps only the tail of the output.
  const failures = [];

  // Keep dist/ in step with lib/.
  const tsc = await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
  if (tsc.code !== 0) { failed += 1; failures.push('tsc -p tsconfig.build.json failed'); }

  const gen = await run(python, ['__test__/fixtures/make_fixtures.py', '__test__/fixtures/generated']);
  if (gen.code !== 0) {
    failures.push('make_fixtures.py failed');
    console.error(`mmnpy: generating NumPy fixtures failed: is NumPy installed for ${python}? (pip install numpy)`);
    failed += 1;
  }

  const npz = await run(python, ['__test__/fixtures/make_npz_fixtures.py', '__test__/fixtures/generated/npz']);
  if (npz.code !== 0) { failed += 1; failures.push('make_npz_fixtures.py failed'); }

  const dtypes = await run(python, ['__test__/fixtures/make_dtype_fixtures.py', '__test__/fixtures/generated/dtypes']);
  if (dtypes.code !== 0) { failed += 1; failures.push('make_dtype_fixtures.py failed'); }

  const joblib = await run(python, ['__test__/fixtures/make_joblib_fixtures.py', '__test__/fixtures/generated/joblib']);
  if (joblib.code !== 0) {
    failures.push('make_joblib_fixtures.py failed');
    console.error(`mmnpy: generating joblib fixtures failed: is joblib installed for ${python}? (pip install joblib lz4)`);
    failed += 1;
  }

  const sparse = await run(python, ['__test__/fixtures/make_sparse_fixtures.py', '__test__/fixtures/generated/sparse']);
  if (sparse.code !== 0) {
    failures.push('make_sparse_fixtures.py failed');
    console.error(`mmnpy: generating SciPy fixtures failed: is SciPy installed for ${python}? (pip install scipy)`);
    failed += 1;
  }

  const h5 = await run(python, ['__test__/fixtures/make_h5_fixtures.py', '__test__/fixtures/generated/h5']);
  if (h5.code !== 0) {
    failures.push('make_h5_fixtures.py failed');
    console.error(`mmnpy: generating HDF5 fixtures failed: is h5py installed for ${python}? (pip install h5py)`);
    failed += 1;
  }

  // --no-fail-fast: a test binary that fails or dies (a signal, an abort) does not hide the
  // binaries after it; each one that dies counts as one failure and is named at the end.
  const cargo = await run('cargo', ['test', '--workspace', '--no-fail-fast', '--color', 'never']);
  passed += sum(/test result: \w+\. (\d+) passed/g, cargo.out);
  failed += sum(/test result: \w+\. \d+ passed; (\d+) failed/g, cargo.out);
  for (const m of cargo.out.matchAll(/^test (.+) \.\.\. FAILED$/gm)) failures.push(`cargo: ${m[1]}`);
  const crashes = [...cargo.out.matchAll(/^.*process didn't exit successfully: .*\(signal: .*$/gm)].map((m) => m[0].trim());
  failed += crashes.length;
  for (const l of crashes) failures.push(`cargo: a test binary died: ${l}`);
  if (cargo.code !== 0 && crashes.length === 0 && !/test result: FAILED/.test(cargo.out)) {
    failed += 1; // a build error, or cargo itself failed
    const errors = [...cargo.out.matchAll(/^error(?:\[E\d+\])?: .*$/gm)].map((m) => m[0]);
    failures.push(`cargo: exited with ${cargo.code}${errors.length ? `: ${errors.slice(0, 5).join(' | ')}` : ''}`);
  }

  // The ava suite on this Node, then on every other Node binary listed in MMNPY_TEST_NODES
  // (colon-separated paths; CI installs Node 22 and 24 from the npm registry). Those runs are
  // reported on their own line and gate with MMNPY_TEST_NODES_GATE=1 (CI sets it; the whole
  // suite passes on Node 22 and 24).
  const nodes = [process.execPath, ...(process.env.MMNPY_TEST_NODES ?? '').split(path.delimiter).filter(Boolean)];
  for (const node of nodes) {
    const version = node === process.execPath ? process.version : (spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout ?? '').trim() || `? (${node})`;
    if (node !== process.execPath) console.log(`\n=== the ava suite again on Node ${version}`);
    const ava = await run(node, [path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), ...process.argv.slice(2)], {
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    // With failures ava prints no "N tests passed" line: count the ticks then.
    const avaPassed = sum(/^\s*(\d+) tests? passed/gm, ava.out) || (ava.out.match(/^\s*✔/gm) ?? []).length;
    const avaFailed = sum(/^\s*(\d+) tests? failed/gm, ava.out) + sum(/^\s*(\d+) uncaught exceptions?/gm, ava.out)
      + sum(/^\s*(\d+) unhandled rejections?/gm, ava.out) + sum(/^\s*(\d+) tests? timed out/gm, ava.out);
    const broke = ava.code !== 0 && avaFailed === 0 ? 1 : 0; // ava itself failed (no test ran, crash, ...)
    if (broke) failures.push(`Node ${version}: ava exited with ${ava.code} and reported no failed test`);
    for (const m of ava.out.matchAll(/^\s*(✘ .*|Uncaught exception in .*|Unhandled rejection in .*|Timed out while running .*)$/gm)) failures.push(`Node ${version}: ${m[1].trim()}`);
    if (node === process.execPath || process.env.MMNPY_TEST_NODES_GATE === '1') {
      passed += avaPassed;
      failed += avaFailed + broke;
    } else {
      console.log(`mmnpy: ava on Node ${version} (reported, not gating): ${avaPassed} ok, ${avaFailed + broke} not ok`);
    }
  }

  if (failures.length > 0) {
    console.log(`\nmmnpy: what failed (${failures.length} lines; details above):`);
    for (const f of [...new Set(failures)].slice(0, 50)) console.log(`  ${f}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
