// Runs the README's example as a user would (require('mmnpy') resolves to this package
// by self-reference) and checks each `// expected` comment against what it prints.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');

test('the README example runs and prints what its comments say', (t) => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /## Example\s+```js\n([\s\S]*?)```/.exec(readme);
  t.truthy(m, 'README has an Example section with a js block');
  const code = m![1]!;
  const expected = code
    .split('\n')
    .filter((l) => l.startsWith('console.log('))
    .map((l) => /\/\/ (.*)$/.exec(l)?.[1]?.trim());
  t.true(expected.length >= 4 && expected.every((e) => e !== undefined), 'every console.log has an expected comment');

  const script = path.join(root, '__test__', '.readme-example.generated.js');
  fs.writeFileSync(script, code);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-readme-'));
  t.teardown(() => {
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(script, { force: true });
  });
  const r = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), expected);
});
