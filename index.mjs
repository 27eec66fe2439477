// ESM entry: re-exports the CommonJS build.
import mmnpy from './index.js';

export const { NdArray, MmnpyError, loadNpy, openNpy, memmap, fromFile, saveNpy, array, NpzFile, loadNpz, saveNpz, SparseMatrix, loadSparse, saveSparse, csr, csc, coo } = mmnpy;
export default mmnpy;
