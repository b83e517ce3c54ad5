/**
 * npm run bench: every benchmark, one after the other, each printing its own table.
 * Figures depend on the machine and its load; run on a quiet machine.
 */
import { run as codec } from './codec.js';
import { run as spawn, formatTable } from './spawn.js';
import { run as bulk } from './bulk.js';
import { run as executor } from './executor.js';
import { run as cliSubmit } from './cli-submit.js';
import { run as store } from './store.js';
import { run as overlay } from './overlay.js';

console.log('== codec (bench/codec.ts)');
await codec();
console.log('\n== task launcher (bench/spawn.ts)');
console.log(formatTable(await spawn()));
console.log('\n== part (a): submit_async + wait (bench/bulk.ts)');
await bulk();
console.log('\n== part (b): FluxExecutor (bench/executor.ts)');
await executor();
console.log('\n== bulk submission: tsflux submit --cc against the library (bench/cli-submit.ts)');
await cliSubmit();
console.log('\n== the durable store: submit, run rate, a backlog and restarts (bench/store.ts)');
await store();
console.log("\n== the tree overlay: round trips per link and a parent's routing rate (bench/overlay.ts)");
overlay();
