// ESM entry: re-exports the CommonJS build.
import mmnpy from './index.js';

export const { NdArray, MmnpyError, loadNpy, openNpy, memmap, fromFile, saveNpy, array, NpzFile, loadNpz, saveNpz, SparseMatrix, loadSparse, saveSparse, csr, csc, coo } = mmnpy;
export const { zeros, empty, ones, onesAsync, full, fullAsync, arange, arangeAsync, linspace, linspaceAsync } = mmnpy;
export const { arrayEqual, arrayEqualAsync, allclose, allcloseAsync, isclose, iscloseAsync, equal, notEqual, less, lessEqual, greater, greaterEqual, isnan, isfinite } = mmnpy;
export const { Parallel, memit, memitAsync, residentMemory } = mmnpy;
export const { where, whereAsync, concatenate, concatenateAsync, stack, stackAsync } = mmnpy;
export const { load, dump } = mmnpy;
export const { H5File, Group, Dataset, openH5 } = mmnpy;
export default mmnpy;
