/**
 * The broker's log: to the file named by the `log-filename` attribute, else errors to stderr.
 * In an instance of several brokers each line names its rank (`tsflux-broker-2:` on stderr,
 * `broker.err[2]` in the file, which every broker of `--test-size` appends to).
 */
import fs from 'node:fs';

export type Level = 'err' | 'warning' | 'info' | 'debug';

export interface BrokerLog {
  log: (level: Level, text: string) => void;
  close: () => void;
}

export function openLog(file?: string, rank = 0, size = 1): BrokerLog {
  if (!file) {
    const name = size > 1 ? `tsflux-broker-${rank}` : 'tsflux-broker';
    return {
      log: (level, text) => {
        if (level === 'err' || level === 'warning') process.stderr.write(`${name}: ${level}: ${text}\n`);
      },
      close: () => {},
    };
  }
  const fd = fs.openSync(file, 'a', 0o644);
  let open = true;
  return {
    log: (level, text) => {
      if (!open || level === 'debug') return;
      fs.writeSync(fd, `${new Date().toISOString()} broker.${level}[${rank}]: ${text}\n`);
    },
    close: () => {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
