/**
 * `tsflux queue drain|status` — Flux's `flux queue` (src/cmd/flux-queue.py).
 *
 * `drain [--timeout FSD]` sends job-manager.drain, which answers once no job is active.
 * `status` prints `Job submission is enabled|disabled[: reason]` and
 * `Scheduling is started|stopped[: reason]` from job-manager.queue-status.
 * Not supported: named queues, enable/disable/start/stop, idle.
 */
import { Command } from 'commander';
import { parseFsd } from '../job/fsd.js';
import { CliError, fluxAction, openFlux } from './lib/util.js';

const PREFIX = 'tsflux-queue';

function drainCommand(): Command {
  return new Command('drain')
    .description('wait until the queue is empty (no active jobs)')
    .option('--timeout <DURATION>', 'give up after DURATION (a Flux standard duration)')
    .action(
      fluxAction(PREFIX, async (opts: { timeout?: string }) => {
        let timeout: number | undefined;
        if (opts.timeout !== undefined) {
          try {
            timeout = parseFsd(opts.timeout);
          } catch {
            throw new CliError(`${PREFIX}: ERROR: invalid Flux standard duration '${opts.timeout}'`);
          }
        }
        const h = await openFlux();
        let timer: NodeJS.Timeout | undefined;
        try {
          const drained = h.rpc('job-manager.drain');
          if (timeout === undefined) await drained;
          else {
            const expired = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout! * 1000)));
            if ((await Promise.race([drained, expired])) === 'timeout')
              throw new CliError(`${PREFIX}: ERROR: queue drain timed out`);
          }
          return 0;
        } finally {
          if (timer) clearTimeout(timer);
          h.close();
        }
      }),
    );
}

function statusCommand(): Command {
  return new Command('status').description('show whether job submission is enabled and scheduling is started').action(
    fluxAction(PREFIX, async () => {
      const h = await openFlux();
      try {
        const s = await h.rpc<Record<string, any>>('job-manager.queue-status', {}, { nodeid: 0 });
        const enabled = s.enable !== false;
        const started = s.start !== false;
        let text = `Job submission is ${enabled ? 'enabled' : 'disabled'}${!enabled && s.disable_reason ? `: ${s.disable_reason}` : ''}\n`;
        text += `Scheduling is ${started ? 'started' : 'stopped'}${!started && s.stop_reason ? `: ${s.stop_reason}` : ''}\n`;
        process.stdout.write(text);
        return 0;
      } finally {
        h.close();
      }
    }),
  );
}

export function queueCommand(): Command {
  return new Command('queue')
    .description('manage the job queue')
    .addCommand(drainCommand())
    .addCommand(statusCommand());
}
