#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` via prepare).
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`net-test run --help | head`) closes the pipe: end as a shell
// reports a SIGPIPE death (128 + 13), without a stack trace; exit handlers still clean up.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(141);
  });
}

process.exitCode = await main(process.argv.slice(2));
