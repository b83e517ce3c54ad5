/**
 * The seed's progress bar, `|██████-----| 42.0% (29.4 job/s)`, drawn with cli-progress.
 * On a terminal it redraws in place; otherwise it prints only the final line.
 */
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Bar width in characters (the seed uses 58). */
  length?: number;
  stream?: NodeJS.WriteStream;
}

export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private readonly t0 = performance.now();
  private started = false;
  private readonly tty: boolean;
  private total = 0;
  private value = 0;

  constructor(private readonly opts: ProgressOptions = {}) {
    const stream = opts.stream ?? process.stdout;
    this.tty = stream.isTTY === true;
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        barsize: opts.length ?? 58,
        barCompleteChar: '\u2588',
        barIncompleteChar: '-',
        hideCursor: false,
        clearOnComplete: false,
        fps: 20,
        noTTYOutput: false,
        format: (options, params, payload: { rate?: string }) => {
          const size = options.barsize ?? 58;
          const fill = Math.round(size * params.progress);
          const bar = '\u2588'.repeat(fill) + '-'.repeat(size - fill);
          return `|${bar}| ${(100 * params.progress).toFixed(1)}% ${payload.rate ?? ''}`;
        },
      },
      cliProgress.Presets.legacy,
    );
  }

  /** Set progress to count/total; the suffix shows count per second since `start`. */
  update(count: number, total: number, t0: number = this.t0): void {
    this.total = total;
    this.value = count;
    const secs = (performance.now() - t0) / 1000;
    const rate = `(${(count / (secs || 1e-9)).toFixed(1)} job/s)`;
    if (!this.tty) {
      if (count >= total) this.printFinal(rate);
      return;
    }
    if (!this.started) {
      this.bar.start(total, count, { rate });
      this.started = true;
    } else this.bar.update(count, { rate });
    if (count >= total) this.bar.stop();
  }

  private printFinal(rate: string): void {
    const size = this.opts.length ?? 58;
    const frac = this.total ? this.value / this.total : 1;
    const fill = Math.round(size * frac);
    (this.opts.stream ?? process.stdout).write(
      `|${'\u2588'.repeat(fill)}${'-'.repeat(size - fill)}| ${(100 * frac).toFixed(1)}% ${rate}\n`,
    );
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
