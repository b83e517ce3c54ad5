import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

/** Repository root, whether running from test/ (tsx) or dist/test/ (compiled). */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + dir);
    dir = up;
  }
}

export const repoRoot = findRoot();
/** Captures from a real flux-core (captured from flux-core; see test/vectors/README.md). */
export const vectorsDir = path.join(repoRoot, 'test', 'vectors');
export const tsfluxBin = path.join(repoRoot, 'bin', 'tsflux.js');

export function readVector<T = any>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(vectorsDir, name), 'utf8')) as T;
}
