/** HDF5 files (h5py): `openH5` → `H5File`, a `Group` of `Group`s and `Dataset`s. The format lives in `crates/core/src/hdf5`. */
import * as binding from '../binding';
import { invalidArg, MmnpyError, native, nativeAsync, typeError } from './errors';
import { array, opts, toPath, wrap } from './io';
import { NdArray } from './ndarray';
import { dtypeOfTypedArray } from './dtype';
import type { DType } from './dtype';
import { full, zeros } from './construct';
import { adjust, parseSliceString, SliceSpec } from './slicing';
import { Complex, TakenStorages } from './storage';

export type { PathLike, H5OpenOptions, H5Mode, H5AttrValue, H5AttrInput, H5MmapOptions, H5Strings, H5DatasetOptions, H5WriteValues, H5Attrs } from '../index';
import type { PathLike, H5OpenOptions, H5Mode, H5AttrValue, H5AttrInput, H5MmapOptions, H5Strings, H5DatasetOptions, H5WriteValues, H5Attrs } from '../index';

const MODES: readonly string[] = ['r', 'r+', 'w', 'w-', 'x', 'a'];

/** The open file shared by every `Group` and `Dataset` taken from it. @internal */
class Handle {
  native: binding.NativeH5 | null;
  readonly filename: string;
  readonly allowCopy: boolean;
  readonly writable: boolean;
  /** Counts changes, so `Dataset`s know when to read their shape again. */
  generation = 0;
  /** Storages of the arrays handed out, weakly: closing the file closes them. */
  private readonly taken = new TakenStorages();

  constructor(n: binding.NativeH5, allowCopy: boolean) {
    this.native = n;
    this.allowCopy = allowCopy;
    this.filename = native(() => n.filename());
    this.writable = native(() => n.writable());
  }

  /** The native file, open for writing (else `ERR_MMNPY_READONLY`). */
  writer(): binding.NativeH5 {
    const n = this.live();
    if (!this.writable) throw new MmnpyError('ERR_MMNPY_READONLY', `${this.filename}: the HDF5 file is open read-only (mode 'r'): open it with 'r+' or 'a' to change it`);
    this.generation++;
    return n;
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
    native(() => n.close());
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

  /** The attributes as an object whose assignments and deletions write them (h5py's `attrs`). */
  attrsView(name: string): H5Attrs {
    const target: H5Attrs = this.attrs(name);
    return new Proxy(target, {
      set: (t, key, value) => {
        if (typeof key !== 'string') throw typeError('an attribute name must be a string');
        this.setAttr(name, key, value as H5AttrInput);
        t[key] = this.attrs(name)[key]!;
        return true;
      },
      deleteProperty: (t, key) => {
        if (typeof key !== 'string') throw typeError('an attribute name must be a string');
        const n = this.writer();
        native(() => n.deleteAttr(name, key));
        delete t[key];
        return true;
      },
      defineProperty: () => {
        throw typeError('attributes are set by assignment: obj.attrs.name = value');
      },
    });
  }

  setAttr(name: string, key: string, value: H5AttrInput): void {
    const n = this.writer();
    if (typeof value === 'string') {
      native(() => n.setAttrStrings(name, key, [value], undefined));
      return;
    }
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
      native(() => n.setAttrStrings(name, key, value as string[], [value.length]));
      return;
    }
    let a: NdArray;
    let made = true;
    if (value instanceof NdArray) {
      a = value;
      made = false;
    } else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || isComplex(value)) {
      a = full([], value);
    } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      if (dtypeOfTypedArray(value) === undefined) throw typeError(`unsupported TypedArray ${value.constructor.name}`);
      a = array(value);
    } else if (Array.isArray(value)) {
      a = array(value as never);
    } else {
      throw typeError(`an attribute is a number, bigint, boolean, { re, im }, string, string[], TypedArray or NdArray, got ${value === null ? 'null' : typeof value}`);
    }
    try {
      native(() => n.setAttrArray(name, key, a._s.native, a.viewArg()));
    } finally {
      if (made) a.close();
    }
  }
}

function isComplex(v: unknown): v is Complex {
  return v !== null && typeof v === 'object' && typeof (v as Complex).re === 'number' && typeof (v as Complex).im === 'number';
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

  /**
   * Attributes: numbers (bigint for 64-bit integers), booleans, `{ re, im }`, strings, string arrays, `NdArray`s.
   * In a file open for writing, assigning a property sets the attribute and `delete` removes it.
   */
  get attrs(): H5Attrs {
    return this._h.attrsView(this.name);
  }

  /** Creates a group (and the missing groups above it, as h5py); `ERR_MMNPY_EXISTS` if the name is taken. */
  createGroup(name: string): Group {
    const p = joinPath(this.name, name);
    const n = this._h.writer();
    native(() => n.createGroup(p));
    return new Group(this._h, p);
  }

  /**
   * Creates a dataset as h5py's `create_dataset`: `shape` and `dtype` (default float32, as h5py; both taken from
   * `data` when given), chunked when `chunks` is given or `true` (guessed as h5py does) or when `maxshape` or a
   * filter needs chunks; then `data`, if any, is written.
   */
  createDataset(name: string, options: H5DatasetOptions): Dataset {
    const o = opts(options, 'createDataset');
    const p = joinPath(this.name, name);
    let data: NdArray | undefined;
    let made = false;
    if (o.data !== undefined && o.data !== null) {
      if (o.data instanceof NdArray) data = o.data;
      else {
        data = array(o.data as never);
        made = true;
      }
    }
    try {
      const shape = o.shape === undefined || o.shape === null ? data?.shape : typeof o.shape === 'number' ? [o.shape] : o.shape;
      if (shape === undefined) throw typeError('createDataset needs a shape (or data)');
      if (!Array.isArray(shape) && !Object.isFrozen(shape)) throw typeError('shape must be a number or an array of numbers');
      const dtype = o.dtype ?? data?.dtype ?? 'float32';
      let gzip: number | undefined;
      const c = o.compression;
      if (c === 'gzip') gzip = o.compressionOpts ?? 4;
      else if (typeof c === 'number') gzip = c;
      else if (c !== undefined && c !== null) {
        throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_FILTER', `compression '${String(c)}': mmnpy writes gzip (and shuffle, fletcher32)`);
      } else if (o.compressionOpts !== undefined && o.compressionOpts !== null) throw invalidArg('compressionOpts needs compression: \'gzip\'');
      if (gzip !== undefined && (!Number.isInteger(gzip) || gzip < 0 || gzip > 9)) throw invalidArg(`gzip's level is an integer 0 to 9, got ${String(gzip)}`);
      const chunks = o.chunks;
      if (chunks !== undefined && chunks !== null && chunks !== true && chunks !== false && !Array.isArray(chunks)) throw typeError('chunks is an array of numbers, true or null');
      const maxshape = o.maxshape === undefined || o.maxshape === null ? undefined : o.maxshape.map((m) => (m === null ? undefined : m));
      const spec: binding.H5DatasetSpec = {
        shape: [...shape],
        dtype,
        maxshape: maxshape as number[] | undefined,
        chunks: Array.isArray(chunks) ? [...chunks] : undefined,
        autoChunks: chunks === true,
        gzip,
        shuffle: o.shuffle === true,
        fletcher32: o.fletcher32 === true,
      };
      let fill: NdArray | undefined;
      if (o.fillValue !== undefined && o.fillValue !== null) fill = full([], o.fillValue, { dtype });
      const n = this._h.writer();
      try {
        native(() => n.createDataset(p, spec, fill?._s.native, fill?.viewArg()));
      } finally {
        fill?.close();
      }
      const d = new Dataset(this._h, p);
      if (data !== undefined) d.write(null, data);
      return d;
    } finally {
      if (made) data!.close();
    }
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

  /** Whether the file is open for writing (`'r+'`, `'w'`, `'w-'`, `'x'`, `'a'`). */
  get writable(): boolean {
    return this._h.writable;
  }

  /**
   * Commits what was written: the file on disk then holds it all, complete (h5py's `flush`). A writer killed
   * before leaves the previous commit's file (or, for a new file, the old file or none).
   */
  flush(): void {
    const n = this._h.live();
    native(() => n.flush());
  }

  /** Commits what was written, and closes the file and every array taken from it (mapped ones are unmapped, their views detached). Idempotent. */
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

/** A dataset: its shape and storage, hyperslab reads into memory (or a zero-copy map when contiguous), and writes. */
export class Dataset {
  /** Absolute name. */
  readonly name: string;
  /** @internal */
  readonly _h: Handle;
  private _info: binding.H5DatasetInfo;
  private _gen: number;

  /** @internal */
  constructor(h: Handle, name: string) {
    this._h = h;
    this.name = name;
    this._info = this.fetch();
    this._gen = h.generation;
  }

  private fetch(): binding.H5DatasetInfo {
    const n = this._h.live();
    const i = native(() => n.datasetInfo(this.name));
    i.shape = Object.freeze(i.shape) as number[];
    i.maxshape = Object.freeze(i.maxshape.map((m) => (m === undefined ? null : m))) as number[];
    if (i.chunks) i.chunks = Object.freeze(i.chunks) as number[];
    return i;
  }

  /** What `datasetInfo` said, read again after the file changed. */
  private get info(): binding.H5DatasetInfo {
    if (this._gen !== this._h.generation && this._h.native !== null) {
      this._info = this.fetch();
      this._gen = this._h.generation;
    }
    return this._info;
  }

  get shape(): readonly number[] {
    return this.info.shape;
  }
  /** `null` entries are unlimited. */
  get maxshape(): readonly (number | null)[] {
    return this.info.maxshape as (number | null)[];
  }
  get dtype(): DType {
    return this.info.dtype as DType;
  }
  /** Byte order on disk (kept in arrays read). */
  get byteOrder(): '<' | '>' | '|' {
    return this.info.byteOrder as '<' | '>' | '|';
  }
  /** Chunk shape, `null` when not chunked. */
  get chunks(): readonly number[] | null {
    return this.info.chunks ?? null;
  }
  /** `'gzip'`, another filter's name, or `null`. */
  get compression(): string | null {
    return this.info.compression ?? null;
  }
  /** gzip's level, or `null`. */
  get compressionOpts(): number | null {
    return this.info.compressionOpts ?? null;
  }
  get shuffle(): boolean {
    return this.info.shuffle;
  }
  get fletcher32(): boolean {
    return this.info.fletcher32;
  }
  /** `'compact' | 'contiguous' | 'chunked'`. */
  get layout(): 'compact' | 'contiguous' | 'chunked' {
    return this.info.layout as 'compact' | 'contiguous' | 'chunked';
  }

  /**
   * Like `ds[...] = values` in h5py: writes `values` (an `NdArray`, a TypedArray, nested arrays or a scalar,
   * broadcast to the selection and cast as NumPy's setitem casts) into the selection `specs` (`read`'s specs:
   * a string, an array of specs, or `null` for everything).
   */
  write(specs: string | (SliceSpec | string)[] | null, values: H5WriteValues): void {
    const list = specs === null || specs === undefined ? [] : typeof specs === 'string' ? [specs] : specs;
    if (!Array.isArray(list)) throw typeError('write takes a slice string, an array of slice specs or null, then the values');
    const p = plan(this.shape, list);
    const n = this._h.writer();
    const direct =
      values instanceof NdArray &&
      p.reversed.length === 0 &&
      p.dropped.length === 0 &&
      values.dtype === this.dtype &&
      values.shape.length === p.count.length &&
      values.shape.every((d, i) => d === p.count[i]);
    if (direct) {
      native(() => n.write(this.name, p.start, p.step, p.count, values._s.native, values.viewArg()));
      return;
    }
    const buf = zeros(p.count, { dtype: this.dtype });
    try {
      finish(buf, p).assign(values as never);
      native(() => n.write(this.name, p.start, p.step, p.count, buf._s.native, buf.viewArg()));
    } finally {
      buf.close();
    }
  }

  /**
   * Changes the shape of a chunked dataset within `maxshape` (h5py's `resize`): `resize([n, m])`, or
   * `resize(n, axis)` for one axis. Elements outside the old shape read as the fill value.
   */
  resize(shape: number | readonly number[], axis?: number): void {
    let s: number[];
    if (axis !== undefined) {
      if (typeof shape !== 'number') throw typeError('resize(size, axis) takes a number as size');
      const a = axis < 0 ? axis + this.shape.length : axis;
      if (!Number.isInteger(a) || a < 0 || a >= this.shape.length) throw invalidArg(`axis ${axis} is out of range for ${this.shape.length} dimensions`);
      s = [...this.shape];
      s[a] = shape;
    } else {
      s = typeof shape === 'number' ? [shape] : [...shape];
    }
    const n = this._h.writer();
    native(() => n.resize(this.name, s));
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Attributes, as `Group.attrs` (writable when the file is). */
  get attrs(): H5Attrs {
    return this._h.attrsView(this.name);
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
  return new H5File(new Handle(native(() => binding.openH5(p, mode, copy, o.durable === true)), copy), mode as H5Mode);
}
