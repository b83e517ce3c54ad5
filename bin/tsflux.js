#!/usr/bin/env -S node --
// tsflux command entry: runs the compiled CLI (built by `npm ci` / `npm run build`).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (err) => {
    process.stderr.write(`tsflux: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
