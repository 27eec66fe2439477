// A worker that loads the addon itself, maps a file and runs kernels on it.
const { parentPort, workerData } = require('node:worker_threads');
const mm = require('../../index.js');

const a = mm.loadNpy(workerData.file, { mmapMode: 'r' });
const out = { sum: a.sum(), max: a.max(), axis: a.reshape(-1, 4).sum({ axis: 0 }).toArray() };
a.meanAsync().then((mean) => {
  out.mean = mean;
  a.close();
  parentPort.postMessage(out);
});
