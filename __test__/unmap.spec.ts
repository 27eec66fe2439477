// close() must really unmap (not only detach), and chunks({ release: true }) must keep
// the resident set bounded. Linux only: read from /proc/self.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNpy, openNpy } from '../index';

const linux = process.platform === 'linux';
const rssFile = (): number => Number(/RssFile:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const mapped = (file: string): boolean => fs.readFileSync('/proc/self/maps', 'utf8').includes(file);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-unmap-'));
const file = path.join(dir, 'big.npy');
test.before(() => {
  const a = openNpy(file, { mode: 'w+', dtype: 'float64', shape: [2 ** 25] }); // 256 MiB
  for (const c of a.chunks()) c.fill(0.5);
  a.flush();
  a.close();
});
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

(linux ? test.serial : test.skip)('close() unmaps at once, also after sync and async kernels ran', async (t) => {
  const a = loadNpy(file, { mmapMode: 'r' });
  t.is(a.sum(), 2 ** 24);
  t.is(await a.meanAsync(), 0.5);
  t.true(mapped(file));
  a.close();
  t.false(mapped(file), 'the mapping is gone from /proc/self/maps');
});

(linux ? test.serial : test.skip)('close() while an async kernel runs: the kernel finishes, then the memory is unmapped', async (t) => {
  const a = loadNpy(file, { mmapMode: 'r' });
  const pending = [a.sumAsync(), a.stdAsync(), a.add(1).sumAsync()];
  a.close();
  t.throws(() => a.get(0), { code: 'ERR_MMNPY_CLOSED' });
  const [s, sd, s1] = await Promise.all(pending);
  t.deepEqual([s, sd, s1], [2 ** 24, 0, 1.5 * 2 ** 25]);
  t.false(mapped(file));
});

(linux ? test.serial : test.skip)('chunks({ release: true }) keeps the resident set to about one block', (t) => {
  const pass = (release: boolean): [number, number] => {
    const a = loadNpy(file, { mmapMode: 'r' });
    const start = rssFile();
    let peak = start;
    let total = 0;
    for (const c of a.chunks({ bytes: 16 * 2 ** 20, release })) {
      total += c.sum() as number;
      peak = Math.max(peak, rssFile());
    }
    a.close();
    return [peak - start, total];
  };
  const [kept, total1] = pass(false);
  const [released, total2] = pass(true);
  t.is(total1, 2 ** 24);
  t.is(total2, 2 ** 24);
  t.true(kept > 200 * 2 ** 20, `without release the pass keeps the file resident (${kept >> 20} MiB)`);
  t.true(released < 64 * 2 ** 20, `with release the growth stays near one 16 MiB block (${released >> 20} MiB)`);
});
