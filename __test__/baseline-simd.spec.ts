// The reduction and elementwise suites again on the baseline instruction set
// (MMNPY_SIMD=base, read once per process): the kernels compiled for AVX2 / AVX-512 and
// chosen at run time (`kernels::simd`) must give the baseline's results, which the suites
// check against NumPy bit for bit. On a CPU without AVX2 both runs take the baseline.
process.env.MMNPY_SIMD = 'base'
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./reduce.spec')
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./elementwise.spec')
