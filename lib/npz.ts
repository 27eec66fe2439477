/** `.npz` archives: `loadNpz` → `NpzFile`, and `saveNpz`. The zip format lives in `crates/core/src/zip`. */
import { availableParallelism } from 'node:os';
import * as binding from '../binding';
import { closedError, invalidArg, MmnpyError, native, typeError } from './errors';
import { opts, toBytes, toPath, wrap } from './io';
import { MmapMode, NdArray, NestedArray } from './ndarray';
import { TakenStorages } from './storage';

export type { PathLike, NpzLoadOptions, SaveNpzOptions } from '../index';
import type { PathLike, NpzLoadOptions, SaveNpzOptions } from '../index';

const MODE_NAMES: Record<string, MmapMode> = { r: 'r', readonly: 'r', c: 'c', copyonwrite: 'c', 'r+': 'r+', readwrite: 'r+', 'w+': 'w+', write: 'w+' };

/** An open `.npz` archive. Members are read when asked for; closing the archive closes every array taken from it. */
export class NpzFile implements Iterable<[string, NdArray]> {
  /** Member names without `.npy`, like NumPy's `NpzFile.files`. */
  readonly files: readonly string[];
  /** Absolute path of the archive. */
  readonly filename: string;
  /** The mode stored members are mapped in, or `null` (read into memory). */
  readonly mmapMode: MmapMode | null;
  private nativeNpz: binding.NativeNpz | null;
  private readonly allowCopy: boolean;
  /** Storages of the arrays handed out, weakly: a collected one has no view left to close. */
  private readonly taken = new TakenStorages();

  /** @internal */
  constructor(n: binding.NativeNpz, mode: MmapMode | null, allowCopy: boolean) {
    this.nativeNpz = n;
    this.mmapMode = mode;
    this.allowCopy = allowCopy;
    this.files = Object.freeze(native(() => n.keys()));
    this.filename = native(() => n.filename());
  }

  get closed(): boolean { return this.nativeNpz === null; }

  private live(): binding.NativeNpz {
    if (this.nativeNpz === null) throw new MmnpyError('ERR_MMNPY_CLOSED', `${this.filename}: the archive is closed`);
    return this.nativeNpz;
  }

  private track(a: NdArray): NdArray {
    this.taken.add(a._s);
    return a;
  }

  /** Whether the archive holds member `name` (with or without `.npy`). */
  has(name: string): boolean {
    if (typeof name !== 'string') return false;
    const n = this.live();
    return native(() => n.has(name));
  }

  /** The array of member `name` (with or without `.npy`): mapped when stored and `mmapMode` was given, else read into memory. */
  get(name: string): NdArray {
    if (typeof name !== 'string') throw typeError(`member name must be a string, got ${typeof name}`);
    const n = this.live();
    return this.track(wrap(native(() => n.get(name)), this.allowCopy));
  }

  /** `[name, array]` for every member; deflated members are inflated several at a time in parallel. */
  *[Symbol.iterator](): IterableIterator<[string, NdArray]> {
    const batch = Math.max(2, availableParallelism());
    for (let i = 0; i < this.files.length; i += batch) {
      const names = this.files.slice(i, i + batch);
      const n = this.live();
      const arrays = native(() => n.getMany(names));
      for (let k = 0; k < names.length; k++) yield [names[k]!, this.track(wrap(arrays[k]!, this.allowCopy))];
    }
  }

  /** Closes the archive and every array taken from it (their views and TypedArrays are detached). Idempotent. */
  close(): void {
    const n = this.nativeNpz;
    if (n === null) return;
    this.nativeNpz = null;
    this.taken.closeAll();
    n.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Like `np.load('x.npz', mmap_mode=...)`. With `mmapMode` `'r'` or `'c'`, stored members are mapped in
 * place; `'r+'`/`'w+'` are refused (`ERR_MMNPY_UNSUPPORTED_MODE`).
 */
export function loadNpz(path: PathLike, options?: NpzLoadOptions): NpzFile {
  const o = opts(options, 'loadNpz');
  const p = toPath(path);
  const copy = o.allowCopy === true;
  let mode: MmapMode | null = null;
  if (o.mmapMode !== undefined && o.mmapMode !== null) {
    const m = MODE_NAMES[o.mmapMode as string];
    if (m === undefined) throw invalidArg(`mmapMode must be one of 'r', 'c' (or 'readonly', 'copyonwrite'), got '${String(o.mmapMode)}'`);
    mode = m;
  }
  const modeArg = mode ?? undefined;
  return new NpzFile(native(() => binding.openNpz(p, modeArg, copy)), mode, copy);
}

function level(compress: unknown): number | undefined {
  if (compress === undefined || compress === null || compress === false) return undefined;
  if (compress === true) return 6;
  if (typeof compress === 'number' && Number.isInteger(compress) && compress >= 1 && compress <= 9) return compress;
  throw invalidArg(`compress must be a boolean or a level from 1 to 9, got ${String(compress)}`);
}

type Member = NdArray | ArrayBufferView | NestedArray;

/**
 * Like `np.savez` / `np.savez_compressed`: one member `name.npy` per entry, written atomically.
 * Stored members' data start on a 64-byte boundary; `compress` deflates large members in parallel.
 */
export function saveNpz(path: PathLike, arrays: Record<string, Member> | Map<string, Member>, options?: SaveNpzOptions): void {
  const o = opts(options, 'saveNpz');
  const p = toPath(path);
  const lvl = level(o.compress);
  if (arrays === null || typeof arrays !== 'object' || Array.isArray(arrays)) {
    throw typeError('saveNpz takes a plain object or a Map of name -> array');
  }
  const entries: [unknown, Member][] = arrays instanceof Map ? [...arrays] : Object.entries(arrays);
  for (const [k] of entries) if (typeof k !== 'string') throw typeError(`member names must be strings, got ${typeof k}`);
  for (const [, v] of entries) if (v instanceof NdArray && v.closed) throw closedError();
  const w = native(() => binding.createNpz(p, lvl, o.durable === true));
  try {
    for (const [k, v] of entries) {
      const key = k as string;
      if (v instanceof NdArray) {
        native(() => w.addArray(key, v._s.native, [...v.shape], [...v.strides], v._offset));
      } else {
        const [bytes, dtype, shape] = toBytes(v, undefined, undefined);
        native(() => w.addBytes(key, bytes, dtype, shape, false));
      }
    }
    native(() => w.finish());
  } catch (e) {
    w.abort();
    throw e;
  }
}
