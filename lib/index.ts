/** mmnpy: NumPy-grade memory-mapped arrays for Node.js. The public types are in ../index.d.ts. */
export { NdArray } from './ndarray';
export { loadNpy, openNpy, memmap, fromFile, saveNpy, array } from './io';
export { MmnpyError } from './errors';
export { NpzFile, loadNpz, saveNpz } from './npz';
export { load, dump } from './joblib';
export { H5File, Group, Dataset, openH5 } from './h5';
export { SparseMatrix, loadSparse, saveSparse, csr, csc, coo } from './sparse';
export { zeros, empty, ones, onesAsync, full, fullAsync, arange, arangeAsync, linspace, linspaceAsync } from './construct';
export { arrayEqual, arrayEqualAsync, allclose, allcloseAsync, isclose, iscloseAsync, equal, notEqual, less, lessEqual, greater, greaterEqual, isnan, isfinite } from './compare';
export { Parallel } from './parallel';
export { memit, memitAsync, residentMemory } from './memit';
export { where, whereAsync, concatenate, concatenateAsync, stack, stackAsync } from './select';
