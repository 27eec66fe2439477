/** HDF5 files (h5py): `openH5` → `H5File`, a `Group` of `Group`s and `Dataset`s. The format lives in `crates/core/src/hdf5`. */
import * as binding from '../binding';
import { invalidArg, MmnpyError, native, nativeAsync, typeError } from './errors';
import { opts, toPath, wrap } from './io';
import { NdArray } from './ndarray';
import type { DType } from './dtype';
import { adjust, parseSliceString, SliceSpec } from './slicing';
import { TakenStorages } from './storage';

export type { PathLike, H5OpenOptions, H5Mode, H5AttrValue, H5MmapOptions, H5Strings } from '../index';
import type { PathLike, H5OpenOptions, H5Mode, H5AttrValue, H5MmapOptions, H5Strings } from '../index';

const MODES: readonly string[] = ['r', 'r+', 'w', 'w-', 'x', 'a'];

/** The open file shared by every `Group` and `Dataset` taken from it. @internal */
class Handle {
  native: binding.NativeH5 | null;
  readonly filename: string;
  readonly allowCopy: boolean;
  /** Storages of the arrays handed out, weakly: closing the file closes them. */
  private readonly taken = new TakenStorages();

  constructor(n: binding.NativeH5, allowCopy: boolean) {
    this.native = n;
    this.allowCopy = allowCopy;
    this.filename = native(() => n.filename());
  }

  live(): binding.NativeH5 {
    if (this.native === null) throw new MmnpyError('ERR_MMNPY_CLOSED', `${this.filename}: the HDF5 file is closed`);
    return this.native;
  }

  track(n: binding.NativeArray): NdArray {
    const a = wrap(n, this.allowCopy);
    this.taken.add(a._s);
    return a;
  }

  close(): void {
    const n = this.native;
    if (n === null) return;
    this.native = null;
    this.taken.closeAll();
    n.close();
  }

  object(name: string): Group | Dataset {
    const n = this.live();
    return native(() => n.kind(name)) === 'group' ? new Group(this, name) : new Dataset(this, name);
  }

  attrs(name: string): Record<string, H5AttrValue> {
    const n = this.live();
    const out: Record<string, H5AttrValue> = {};
    for (const a of native(() => n.attrs(name))) {
      switch (a.kind) {
        case 'numbers': {
          const arr = this.track(native(() => n.attrArray(name, a.name)));
          out[a.name] = arr.ndim === 0 ? (arr.get() as H5AttrValue) : arr;
          break;
        }
        case 'string':
          out[a.name] = a.text!;
          break;
        case 'strings':
          out[a.name] = a.texts!;
          break;
        case 'empty':
          out[a.name] = null;
          break;
        default:
          throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_DTYPE', `${this.filename}: attribute '${a.name}' of '${name}' has HDF5 type ${a.text ?? '?'}, which mmnpy does not read`);
      }
    }
    return out;
  }
}

/** Joins a group's absolute name and a relative (or absolute) path. */
function joinPath(base: string, path: string): string {
  if (typeof path !== 'string') throw typeError(`an HDF5 path must be a string, got ${typeof path}`);
  const parts = path.startsWith('/') ? [] : base.split('/').filter((p) => p !== '');
  for (const p of path.split('/')) if (p !== '' && p !== '.') parts.push(p);
  return '/' + parts.join('/');
}

/** A group: members by name or `/` path, attributes, and a walk over everything below it. */
export class Group {
  /** Absolute name, as h5py's `name` (`'/'` for the file). */
  readonly name: string;
  /** @internal */
  readonly _h: Handle;

  /** @internal */
  constructor(h: Handle, name: string) {
    this._h = h;
    this.name = name;
  }

  /** Member names, in h5py's order. */
  keys(): string[] {
    const n = this._h.live();
    return native(() => n.keys(this.name));
  }

  /** The group or dataset at `path` (relative to this group, or absolute). */
  get(path: string): Group | Dataset {
    return this._h.object(joinPath(this.name, path));
  }

  /** Whether `path` names an object. */
  has(path: string): boolean {
    const n = this._h.live();
    const p = joinPath(this.name, path);
    return native(() => n.has(p));
  }

  /** Attributes: numbers (bigint for 64-bit integers), booleans, `{ re, im }`, strings, string arrays, `NdArray`s. */
  get attrs(): Record<string, H5AttrValue> {
    return this._h.attrs(this.name);
  }

  /**
   * Calls `fn(name)` for every object below this group (names relative to it, each object once, as h5py's
   * `visit`); stops and returns the first value that is not `undefined`.
   */
  visit<T>(fn: (name: string) => T | undefined): T | undefined {
    if (typeof fn !== 'function') throw typeError('visit takes a function');
    const n = this._h.live();
    for (const name of native(() => n.visit(this.name))) {
      const r = fn(name);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Iterates member names, like h5py's `for name in group`. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}

/** An open HDF5 file: the root group, plus `close()`. */
export class H5File extends Group {
  /** Absolute path of the file. */
  readonly filename: string;
  /** The mode it was opened in. */
  readonly mode: H5Mode;

  /** @internal */
  constructor(h: Handle, mode: H5Mode) {
    super(h, '/');
    this.filename = h.filename;
    this.mode = mode;
  }

  get closed(): boolean {
    return this._h.native === null;
  }

  /** Closes the file and every array taken from it (mapped ones are unmapped, their views detached). Idempotent. */
  close(): void {
    this._h.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

interface Plan {
  start: number[];
  step: number[];
  count: number[];
  /** Axes read with a positive step that the result reverses. */
  reversed: number[];
  /** Axes indexed by a number: dropped from the result. */
  dropped: number[];
}

/** NumPy basic indexing over a shape → a selection with positive steps, plus what to turn and drop. */
function plan(shape: readonly number[], specs: (SliceSpec | string)[]): Plan {
  let parsed: (SliceSpec | '...')[];
  if (specs.length === 1 && typeof specs[0] === 'string') parsed = parseSliceString(specs[0]);
  else if (specs.some((s) => typeof s === 'string')) throw typeError("a slice string must be the only argument: d.read('1:, ::2')");
  else parsed = specs as SliceSpec[];
  const ell = parsed.indexOf('...');
  if (ell !== -1) {
    if (parsed.indexOf('...', ell + 1) !== -1) throw invalidArg("an index can only have a single ellipsis ('...')");
    parsed = [...parsed.slice(0, ell), ...new Array<null>(Math.max(shape.length - (parsed.length - 1), 0)).fill(null), ...parsed.slice(ell + 1)];
  }
  if (parsed.length > shape.length) {
    throw new RangeError(`too many indices: the dataset is ${shape.length}-dimensional, but ${parsed.length} were indexed`);
  }
  const p: Plan = { start: [], step: [], count: [], reversed: [], dropped: [] };
  shape.forEach((n, axis) => {
    const spec = axis < parsed.length ? parsed[axis] : null;
    if (spec === null || spec === undefined) {
      p.start.push(0);
      p.step.push(1);
      p.count.push(n);
    } else if (typeof spec === 'number' || typeof spec === 'bigint') {
      let i = Number(spec);
      if (!Number.isInteger(i)) throw typeError(`index must be an integer, got ${String(spec)}`);
      if (i < 0) i += n;
      if (i < 0 || i >= n) {
        const e = new RangeError(`index ${String(spec)} is out of bounds for axis ${axis} with size ${n}`) as RangeError & { code: string };
        e.code = 'ERR_MMNPY_OUT_OF_RANGE';
        throw e;
      }
      p.start.push(i);
      p.step.push(1);
      p.count.push(1);
      p.dropped.push(axis);
    } else if (Array.isArray(spec)) {
      if (spec.length > 3) throw invalidArg(`a slice is [start, stop, step], got ${spec.length} values`);
      const [start, len, step] = adjust(n, spec[0], spec[1], spec[2]);
      if (step > 0 || len === 0) {
        p.start.push(len === 0 ? 0 : start);
        p.step.push(Math.abs(step));
        p.count.push(len);
      } else {
        p.start.push(start + (len - 1) * step);
        p.step.push(-step);
        p.count.push(len);
        p.reversed.push(axis);
      }
    } else {
      throw typeError(`a slice spec is a number, null or [start, stop, step], got ${typeof spec}`);
    }
  });
  return p;
}

/** The read block turned into what NumPy's indexing returns: reversed axes, dropped axes. */
function finish(a: NdArray, p: Plan): NdArray {
  if (p.reversed.length === 0 && p.dropped.length === 0) return a;
  return a.slice(...a.shape.map((_, axis): SliceSpec => (p.dropped.includes(axis) ? 0 : p.reversed.includes(axis) ? [null, null, -1] : null)));
}

/** A dataset: its shape and storage, and hyperslab reads into memory (or a zero-copy map when contiguous). */
export class Dataset {
  /** Absolute name. */
  readonly name: string;
  readonly shape: readonly number[];
  /** `null` entries are unlimited. */
  readonly maxshape: readonly (number | null)[];
  readonly dtype: DType;
  /** Byte order on disk (kept in arrays read). */
  readonly byteOrder: '<' | '>' | '|';
  /** Chunk shape, `null` when not chunked. */
  readonly chunks: readonly number[] | null;
  /** `'gzip'`, another filter's name, or `null`. */
  readonly compression: string | null;
  /** gzip's level, or `null`. */
  readonly compressionOpts: number | null;
  readonly shuffle: boolean;
  readonly fletcher32: boolean;
  /** `'compact' | 'contiguous' | 'chunked'`. */
  readonly layout: 'compact' | 'contiguous' | 'chunked';
  /** @internal */
  readonly _h: Handle;

  /** @internal */
  constructor(h: Handle, name: string) {
    this._h = h;
    this.name = name;
    const n = h.live();
    const i = native(() => n.datasetInfo(name));
    this.shape = Object.freeze(i.shape);
    this.maxshape = Object.freeze(i.maxshape.map((m) => (m === undefined ? null : m)));
    this.dtype = i.dtype as DType;
    this.byteOrder = i.byteOrder as '<' | '>' | '|';
    this.chunks = i.chunks ? Object.freeze(i.chunks) : null;
    this.compression = i.compression ?? null;
    this.compressionOpts = i.compressionOpts ?? null;
    this.shuffle = i.shuffle;
    this.fletcher32 = i.fletcher32;
    this.layout = i.layout as 'compact' | 'contiguous' | 'chunked';
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get attrs(): Record<string, H5AttrValue> {
    return this._h.attrs(this.name);
  }

  /**
   * Reads a hyperslab into memory, with `NdArray.slice`'s specs (or none: everything). Only the chunks the
   * selection touches are read, decompressed in parallel.
   */
  read(...specs: (SliceSpec | string)[]): NdArray {
    const p = plan(this.shape, specs);
    const n = this._h.live();
    return finish(this._h.track(native(() => n.read(this.name, p.start, p.step, p.count))), p);
  }

  /** `read` off the JavaScript thread. */
  async readAsync(...specs: (SliceSpec | string)[]): Promise<NdArray> {
    const p = plan(this.shape, specs);
    const n = this._h.live();
    // napi-rs types an async task resolving to a class as unknown.
    const a = (await nativeAsync(() => n.readAsync(this.name, p.start, p.step, p.count))) as binding.NativeArray;
    return finish(this._h.track(a), p);
  }

  /**
   * The strings of a dataset of variable-length strings (`dtype` `'object'`; h5py's `d.asstr()[...]`),
   * with `read`'s specs: nested arrays in the selection's shape (a string for a 0-d result).
   */
  readStrings(...specs: (SliceSpec | string)[]): H5Strings {
    const p = plan(this.shape, specs);
    const n = this._h.live();
    const flat = native(() => n.readStrings(this.name, p.start, p.step, p.count));
    const nest = (axis: number, at: number): H5Strings => {
      if (axis === p.count.length) return flat[at]!;
      const stride = p.count.slice(axis + 1).reduce((a, b) => a * b, 1);
      const items = Array.from({ length: p.count[axis]! }, (_, i) => nest(axis + 1, at + i * stride));
      if (p.reversed.includes(axis)) items.reverse();
      return p.dropped.includes(axis) ? items[0]! : items;
    };
    return nest(0, 0);
  }

  /** A zero-copy `NdArray` over a contiguous, unfiltered dataset (`'r'` or `'c'`); else `ERR_MMNPY_NOT_MAPPABLE` saying why. */
  mmap(options?: H5MmapOptions): NdArray {
    const o = opts(options, 'mmap');
    const mode = o.mode ?? 'r';
    if (mode !== 'r' && mode !== 'c' && mode !== 'readonly' && mode !== 'copyonwrite') {
      throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_MODE', `mode '${String(mode)}': a dataset is mapped 'r' or 'c'`);
    }
    const n = this._h.live();
    return this._h.track(native(() => n.mmap(this.name, mode)));
  }
}

/**
 * Like `h5py.File(path, mode)`: opens an HDF5 file written by h5py (either `libver`) or any HDF5 writer.
 * Malformed files are `ERR_MMNPY_BAD_HDF5` errors naming the problem.
 */
export function openH5(path: PathLike, options?: H5OpenOptions): H5File {
  const o = opts(options, 'openH5');
  const p = toPath(path);
  const mode = o.mode ?? 'r';
  if (typeof mode !== 'string' || !MODES.includes(mode)) throw invalidArg(`mode must be one of 'r', 'r+', 'w', 'w-', 'x', 'a' (as h5py), got '${String(mode)}'`);
  const copy = o.allowCopy === true;
  return new H5File(new Handle(native(() => binding.openH5(p, mode, copy)), copy), mode as H5Mode);
}
