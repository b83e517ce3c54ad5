/** The broker's log: to the file named by the `log-filename` attribute, else errors to stderr. */
import fs from 'node:fs';

export type Level = 'err' | 'warning' | 'info' | 'debug';

export interface BrokerLog {
  log: (level: Level, text: string) => void;
  close: () => void;
}

export function openLog(file?: string): BrokerLog {
  if (!file) {
    return {
      log: (level, text) => {
        if (level === 'err' || level === 'warning') process.stderr.write(`tsflux-broker: ${level}: ${text}\n`);
      },
      close: () => {},
    };
  }
  const fd = fs.openSync(file, 'a', 0o644);
  let open = true;
  return {
    log: (level, text) => {
      if (!open || level === 'debug') return;
      fs.writeSync(fd, `${new Date().toISOString()} broker.${level}[0]: ${text}\n`);
    },
    close: () => {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
