/**
 * How values cross between the main thread and `Parallel` workers. Arguments and results
 * are walked (arrays, plain objects, Maps and Sets, nested, cycles kept); every `NdArray`
 * inside is replaced by a description, everything else travels by structured clone:
 *
 * - a file-backed array mapped `'r'`, `'r+'` or `'w+'` travels as its mapping (file, offset,
 *   dtype, view) and is mapped again on the other side; in the same process (threads) as a
 *   process-wide handle to the very same mapping (see `crates/core/src/shared.rs`). Never by
 *   structured clone: Node copies mapped memory silently, even in a transfer list, and a
 *   worker's writes into the copy would never reach the file. A `'w+'` array arrives `'r+'`.
 * - any other array (in memory, `'c'`) is copied, in its byte order; the `Parallel` side turns
 *   the large ones into temporary files first (auto-memmapping, in `parallel.ts`).
 *
 * The receiving side keeps a small cache of mappings per worker, keyed by file, offset, length
 * and mode and checked against the file's device, inode, mtime and size on every use, so a
 * task that uses the same file as the last one maps nothing and a replaced file is noticed.
 */
import * as fs from 'node:fs';
import * as binding from '../binding';
import { MmnpyError, native } from './errors';
import { memmap, wrap } from './io';
import { NdArray } from './ndarray';

/** Marks a description in the walked value; a user object that has this key is escaped. */
const TAG = '__mmnpy_wire__';

/** A file-backed array: where its mapping is and which view of it. */
export interface MappedWire {
  [TAG]: 'map';
  file: string;
  /** `'<dev>:<ino>'` of the sender's mapping: the receiver refuses a path that names another file now. */
  identity: string | null;
  fileOffset: number;
  byteLength: number;
  /** The dtype the region is mapped as (the root array's, `Storage.spec`) and its itemsize. */
  spec: string;
  itemsize: number;
  /** Field views and ticks: what the view's storage is of the root's (`Storage.path`). */
  path: string[];
  mode: 'r' | 'r+' | 'c';
  shape: number[];
  strides: number[];
  offset: number;
  /** A process-wide handle to the sender's mapping (same process only). */
  handle?: number;
  /** Appended to the read-only error in the receiver. */
  hint?: string;
}

/** An array copied: its elements in C order, in its byte order. */
export interface CopyWire {
  [TAG]: 'copy';
  /** The elements' dtype as `Storage.spec` spells it (any dtype). */
  spec: string;
  shape: number[];
  bytes: Uint8Array;
}

type Wire = MappedWire | CopyWire | { [TAG]: 'escaped'; value: Record<string, unknown> };

/** Walks `value`, replacing each `NdArray` with what `encodeArray` returns. */
export function encode(value: unknown, encodeArray: (a: NdArray) => unknown): unknown {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof NdArray) return encodeArray(v);
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (let i = 0; i < v.length; i++) out.push(walk(v[i]));
      return out;
    }
    if (v instanceof Map) {
      const out = new Map();
      seen.set(v, out);
      for (const [k, x] of v) out.set(walk(k), walk(x));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set();
      seen.set(v, out);
      for (const x of v) out.add(walk(x));
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    seen.set(v, TAG in v ? { [TAG]: 'escaped', value: out } : out);
    for (const k of Object.keys(v)) out[k] = walk((v as Record<string, unknown>)[k]);
    return seen.get(v);
  };
  return walk(value);
}

/** Walks a received value, replacing each description with what `decodeArray` returns. */
export function decode(value: unknown, decodeArray: (w: MappedWire | CopyWire) => NdArray): unknown {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      seen.set(v, v);
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v;
    }
    if (v instanceof Map) {
      const out = new Map();
      seen.set(v, out);
      for (const [k, x] of v) out.set(walk(k), walk(x));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set();
      seen.set(v, out);
      for (const x of v) out.add(walk(x));
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const rec = v as Record<string, unknown>;
    const tag = rec[TAG];
    if (tag === 'map' || tag === 'copy') {
      const a = decodeArray(v as MappedWire | CopyWire);
      seen.set(v, a);
      return a;
    }
    const target = tag === 'escaped' ? (rec.value as Record<string, unknown>) : rec;
    seen.set(v, target);
    for (const k of Object.keys(target)) target[k] = walk(target[k]);
    return target;
  };
  return walk(value);
}

/** The description of a file-backed array (`'r'`, `'r+'`, `'w+'`), sent as `mode` (`'w+'` as `'r+'`). */
export function mappedWire(a: NdArray, mode: 'r' | 'r+' | 'c', handle?: number): MappedWire {
  const s = a._s;
  const w: MappedWire = {
    [TAG]: 'map',
    file: s.info.filename!,
    identity: native(() => s.native.fileIdentity()) ?? null,
    fileOffset: s.info.fileOffset,
    byteLength: s.byteLength,
    spec: s.root.spec,
    itemsize: s.root.dt.itemsize,
    path: [...s.path],
    mode,
    shape: [...a.shape],
    strides: [...a.strides],
    offset: a._offset,
  };
  if (handle !== undefined) w.handle = handle;
  return w;
}

/** A copy of the elements of any array (C order, its byte order). */
export function copyWire(a: NdArray): CopyWire {
  if (a.closed) throw new MmnpyError('ERR_MMNPY_CLOSED', 'cannot send a closed array to a worker');
  const bytes = new Uint8Array(a.nbytes);
  native(() => a._s.native.gatherInto([...a.shape], [...a.strides], a._offset, false, bytes));
  return { [TAG]: 'copy', spec: a._s.spec, shape: [...a.shape], bytes };
}

/** Encodes a worker's result: file-backed arrays by mapping, the others copied. */
export function encodeResult(value: unknown): unknown {
  return encode(value, (a) => {
    if (a.closed) throw new MmnpyError('ERR_MMNPY_CLOSED', 'a task returned a closed array');
    const m = a.mode;
    if (a.filename !== null && a.nbytes > 0 && (m === 'r' || m === 'r+' || m === 'w+')) return mappedWire(a, m === 'w+' ? 'r+' : m);
    return copyWire(a);
  });
}

interface CacheEntry {
  base: NdArray;
  stamp: string;
  used: number;
}

/**
 * Maps what arrives: handles adopted, files mapped through a cache, copies rebuilt. Arrays
 * opened for one task only (adopted handles, `'c'` mappings, copies) are closed by `endTask`.
 */
export class Receiver {
  private readonly cache = new Map<string, CacheEntry>();
  private taskArrays: NdArray[] = [];
  private clock = 0;

  constructor(private readonly capacity = 16) {}

  decode(value: unknown): unknown {
    return decode(value, (w) => this.array(w));
  }

  private array(w: MappedWire | CopyWire): NdArray {
    let base: NdArray;
    if (w[TAG] === 'copy') {
      base = fromCopy(w);
      this.taskArrays.push(base);
      return base;
    }
    if (w.handle !== undefined) {
      base = wrap(native(() => binding.adoptShared(w.handle!, false)), false);
      this.taskArrays.push(base);
    } else if (w.mode === 'c') {
      base = openRegion(w);
      this.taskArrays.push(base);
    } else {
      base = this.cached(w);
    }
    if (w.hint !== undefined) base._s.readOnlyHint = w.hint;
    return new NdArray(base._s, w.shape, w.strides, w.offset);
  }

  /** The cached mapping of `w`'s file region, mapped again when the file changed. */
  private cached(w: MappedWire): NdArray {
    const key = `${w.mode}\0${w.fileOffset}\0${w.byteLength}\0${w.spec}\0${w.path.join('\0')}\0${w.file}`;
    const st = stat(w.file, w.mode);
    if (w.identity !== null && st.identity !== w.identity) {
      throw new MmnpyError('ERR_MMNPY_REPLACED', `${w.file}: the file was replaced or removed after the main thread mapped it (${w.identity}, now ${st.identity ?? 'missing'}); the worker cannot map the same data`);
    }
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.stamp === st.stamp && !hit.base.closed) {
      hit.used = ++this.clock;
      return hit.base;
    }
    if (hit !== undefined) this.drop(key, hit);
    const base = openRegion(w);
    this.cache.set(key, { base, stamp: st.stamp, used: ++this.clock });
    if (this.cache.size > this.capacity) {
      let oldest: [string, CacheEntry] | undefined;
      for (const e of this.cache) if (oldest === undefined || e[1].used < oldest[1].used) oldest = e;
      this.drop(oldest![0], oldest![1]);
    }
    return base;
  }

  private drop(key: string, e: CacheEntry): void {
    this.cache.delete(key);
    e.base.close();
  }

  /** Unmaps cached files that were removed or replaced (a finished call's temporary files). */
  sweep(): void {
    for (const [key, e] of this.cache) {
      const file = e.base.filename!;
      if (e.base.closed || stat(file, e.base.mode).stamp !== e.stamp) this.drop(key, e);
    }
  }

  /** Closes the arrays opened for the task that ended. */
  endTask(): void {
    for (const a of this.taskArrays) a.close();
    this.taskArrays = [];
  }

  /** How many file regions are cached (for tests). */
  get cachedCount(): number {
    return this.cache.size;
  }
}

/**
 * `'<dev>:<ino>'` of a file, and the stamp a cached mapping of it must match: device, inode and
 * size (replaced, truncated or grown), and for `'r'` the mtime too (rewritten in place, as
 * `np.save` does). Not the mtime of `'r+'` files: the workers' own writes through the shared
 * mapping change it, and a shared mapping sees every write anyway.
 */
function stat(file: string, mode: string | null): { identity: string | null; stamp: string } {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) return { identity: null, stamp: 'missing' };
  const identity = `${st.dev}:${st.ino}`;
  return { identity, stamp: mode === 'r' ? `${identity}:${st.size}:${st.mtimeNs}` : `${identity}:${st.size}` };
}

/** Decodes a received value into arrays the caller owns (the main thread's results). */
export function decodeOwned(value: unknown): unknown {
  return decode(value, (w) => {
    if (w[TAG] === 'copy') return fromCopy(w);
    return new NdArray(openRegion(w)._s, w.shape, w.strides, w.offset);
  });
}

/**
 * The whole mapped region a description names (raw, whatever the file's format), mapped again as
 * the root array's dtype; a field view's or ticks' storage is derived from it as the sender's was.
 */
function openRegion(w: MappedWire): NdArray {
  const root = memmap(w.file, { dtype: w.spec, mode: w.mode, offset: w.fileOffset, shape: [w.byteLength / w.itemsize] });
  if (w.path.length === 0) return root;
  try {
    return new NdArray(root._s.rederive(w.path), [], [], 0);
  } catch (e) {
    root.close();
    throw e;
  }
}

/** An in-memory array holding a copy's bytes. */
function fromCopy(w: CopyWire): NdArray {
  return wrap(native(() => binding.fromBytesDescr(w.bytes, w.spec, w.shape, false, false)), false);
}
