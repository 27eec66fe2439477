// Preload for mmbench.spec.ts: makes mmbench believe stderr is a terminal, so the progress
// bar is drawn into the pipe the test reads.
'use strict';
Object.defineProperty(process.stderr, 'isTTY', { value: true });
Object.defineProperty(process.stderr, 'columns', { value: 100 });
