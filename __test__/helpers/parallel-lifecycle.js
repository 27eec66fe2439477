'use strict'
// A process that auto-memmaps an argument into `tempFolder` and then ends without close():
//   argv: tempFolder, how ('exit' | 'SIGTERM' | 'SIGINT' | 'gc')
// prints the pool's temporary folder (one line) before it ends.
const fs = require('node:fs')
const path = require('node:path')
const { Parallel, zeros } = require('../../index.js')

const [temp, how] = process.argv.slice(2)
const WORK = path.join(__dirname, 'parallel-work.js')

async function main() {
  let pool = new Parallel({ nJobs: 1, tempFolder: temp })
  await pool.run(WORK, 'total', [zeros([2 ** 18])])
  const folder = fs.readdirSync(temp).find((n) => n.startsWith(`mmnpy-${process.pid}-`))
  console.log(path.join(temp, folder))
  if (how === 'exit') process.exit(0)
  if (how === 'SIGTERM' || how === 'SIGINT') {
    process.kill(process.pid, how)
    await new Promise((r) => setTimeout(r, 60_000))
  }
  if (how === 'gc') {
    pool = null
    const end = Date.now() + 30_000
    while (fs.existsSync(path.join(temp, folder)) && Date.now() < end) {
      global.gc()
      await new Promise((r) => setTimeout(r, 20))
    }
    console.log(fs.existsSync(path.join(temp, folder)) ? 'kept' : 'removed')
  }
}
main()
