'use strict';
// CommonJS entry: the compiled TypeScript layer (lib/ -> dist/).
module.exports = require('./dist/index.js');
