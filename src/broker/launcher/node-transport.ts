/**
 * Transport to the node helper (spawner-main.ts): child_process.fork with `serialization:
 * 'advanced'`, one array of commands per event-loop turn each way (protocol.ts has the
 * measurements behind that choice).
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, HelperEvent, LaunchSpec } from './protocol.js';
import { LauncherProcess, SpawnerError, type Transport, type TransportHooks } from './transport.js';

export interface NodeTransportOptions {
  nodePath?: string;
  execArgv?: string[];
  killGraceSec: number;
  batch: number;
  /** Extra helper arguments (`--dry-run`). */
  args?: string[];
}

/** The helper script, compiled (`.js`) or, under tsx, the `.ts` source. */
function helperScript(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./spawner-main.js', import.meta.url));
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./spawner-main.ts', import.meta.url));
  if (fs.existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  throw new SpawnerError('ENOENT', `task launcher script not found: ${js}`);
}

export class NodeTransport extends LauncherProcess<Command> implements Transport {
  readonly kind = 'node' as const;

  constructor(o: NodeTransportOptions, hooks: TransportHooks) {
    const script = helperScript();
    super(
      fork(script.file, [`--kill-grace=${o.killGraceSec}`, `--batch=${o.batch}`, ...(o.args ?? [])], {
        execPath: o.nodePath ?? process.execPath,
        execArgv: [...script.execArgv, ...(o.execArgv ?? [])],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
      hooks,
    );
    this.child.on('message', (batch: HelperEvent[]) => {
      for (const ev of batch) {
        if (ev.type === 'ready') {
          hooks.ready();
          this.outbox.open();
        } else hooks.event(ev);
      }
    });
  }

  protected write(batch: Command[]): void {
    if (!this.child.connected) return; // 'close' settles the launches
    this.child.send(batch, () => {
      /* an error means the channel closed: 'close' settles everything */
    });
  }

  protected shutdownCommand(): Command {
    return { op: 'shutdown' };
  }

  launch(spec: LaunchSpec): void {
    this.outbox.push({ op: 'launch', ...spec });
  }
  kill(key: string, signum: number): void {
    this.outbox.push({ op: 'kill', key, signum });
  }
  stdin(key: string, data: Uint8Array | undefined, eof: boolean): void {
    this.outbox.push({ op: 'stdin', key, ...(data && data.length > 0 ? { data } : {}), eof });
  }
  rmdir(dir: string): void {
    this.outbox.push({ op: 'rmdir', dir });
  }
  stats(id: number): void {
    this.outbox.push({ op: 'stats', id });
  }
  holdOutput(held: boolean): void {
    this.outbox.push({ op: 'hold-output', held });
  }
}
