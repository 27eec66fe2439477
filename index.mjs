// ESM entry: re-exports the CommonJS build.
import mmnpy from './index.js';

export const { NdArray, MmnpyError, loadNpy, openNpy, memmap, fromFile, saveNpy, array, NpzFile, loadNpz, saveNpz } = mmnpy;
export default mmnpy;
