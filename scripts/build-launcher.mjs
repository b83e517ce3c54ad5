#!/usr/bin/env node
/**
 * Build the native task launcher: src/broker/launcher/native/launcher.c → dist/native/tsflux-launcher
 * (where src/broker/launcher/native-transport.ts looks for it). Plain node, no dependencies.
 *
 * The C compiler is $CC, else cc, gcc or clang. Without one this prints one line and exits 0:
 * tsflux then runs tasks through the node helper (spawner-main.ts). A compile error fails.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src/broker/launcher/native/launcher.c');
const out = path.join(root, 'dist/native/tsflux-launcher');
const flags = ['-O2', '-Wall', '-Wextra', '-std=gnu11'];

const works = (cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0;
const cc = [process.env.CC, 'cc', 'gcc', 'clang'].find((c) => c && works(c));
if (!cc) {
  console.log('build-launcher: no C compiler (cc, gcc, clang) found: tsflux will use the node task launcher');
  process.exit(0);
}

fs.mkdirSync(path.dirname(out), { recursive: true });
// Build beside the target and rename, so a launcher that is running is not overwritten.
const tmp = `${out}.${process.pid}.tmp`;
const r = spawnSync(cc, [...flags, '-o', tmp, src], { stdio: ['ignore', 'inherit', 'inherit'] });
if (r.status !== 0) {
  fs.rmSync(tmp, { force: true });
  console.error(`build-launcher: ${cc} ${flags.join(' ')} ${path.relative(root, src)} failed`);
  process.exit(1);
}
fs.renameSync(tmp, out);
