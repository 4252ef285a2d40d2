#!/usr/bin/env node
// Runs the project's own tests (compiled to dist/ by `npm run build`) with node's test runner.
// `node scripts/test.mjs unit` runs only the host unit tests.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const groups = process.argv.slice(2);
const dirs = (groups.length ? groups : ['unit', 'integration'])
  .map((g) => `dist/test/${g}`)
  .filter((d) => existsSync(d));
const r = spawnSync(process.execPath, ['--test', ...dirs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
