// The reduction and elementwise suites again with the kernels' specialised paths turned
// off (MMNPY_KERNEL_PATHS=generic, read once per process): contiguous sums, min/max,
// row-by-row axis sums, direct elementwise loops and the small calls' flat loops must give the generic paths' results,
// which the suites check against NumPy bit for bit.
process.env.MMNPY_KERNEL_PATHS = 'generic'
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./reduce.spec')
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./elementwise.spec')
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./small-calls.spec')
