// The mode tests of modes.spec.ts again, as under strict overcommit accounting
// (vm.overcommit_memory = 2, simulated): 'r' maps the file read-only and hands JavaScript
// copies, every other mode behaves the same. Child processes the tests spawn inherit it.
process.env.MMNPY_SIMULATE_STRICT_OVERCOMMIT = '1'
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./modes.spec')
