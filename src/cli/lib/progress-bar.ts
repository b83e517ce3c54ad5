/**
 * A progress bar kept on the terminal's last row while other output (job ids, --watch output)
 * scrolls above it: Flux's `flux.progress` Bottombar and ProgressBar, with the same vt100
 * sequences (a scroll region that stops one row short of the bottom), the same bar style
 * (`vertbars`, framed by `│`) and the same layout: `{before}│{bar}│{after}`, the bar filling
 * what the terminal width leaves. It is redrawn on every update and every 250 ms (so an
 * elapsed timer moves); `stop()` clears the bottom row, restores the scroll region and prints
 * the final frame as an ordinary line. Only for a stream that is a terminal.
 */
import { pyFormat, timedeltaStr } from './pyformat.js';
import { PyFloat } from '../../job/pyjson.js';

/** The bar's cells, empty to full, in eighths (flux's "vertbars" style). */
const STYLE = [...' ▏▎▍▌▋▊▉█'];
const FRAME = '\u2502';

const ESC = '\x1b';
const SAVE = `${ESC}7`;
const RESTORE = `${ESC}8`;

/** Terminal size as Python's shutil.get_terminal_size(): $COLUMNS/$LINES, the tty, else 80x24. */
export function terminalSize(stream: NodeJS.WriteStream): { columns: number; lines: number } {
  const env = (name: string): number => {
    const n = Number(process.env[name]);
    return Number.isInteger(n) && n > 0 ? n : 0;
  };
  const columns = env('COLUMNS') || (stream.columns > 0 ? stream.columns : 0) || 80;
  const lines = env('LINES') || (stream.rows > 0 ? stream.rows : 0) || 24;
  return { columns, lines };
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5 || (d === 0.5 && f % 2 !== 0)) return f + 1;
  return f;
}

/** `{before}│{bar}│{after}` for `width` columns at `fraction` (ProgressBar._formatter). */
export function renderBar(before: string, after: string, fraction: number, width: number): string {
  const length = Math.max(0, width - [...before].length - [...after].length - 2);
  const frac = Math.min(fraction, 1);
  let fill = Math.floor(length * frac);
  let filled = STYLE[STYLE.length - 1]!.repeat(fill);
  const part = Math.floor(length * STYLE.length * frac) - fill * STYLE.length;
  if (part > 0) {
    fill += 1;
    filled += STYLE[part]!;
  }
  return `${before}${FRAME}${filled}${STYLE[0]!.repeat(Math.max(0, length - fill))}${FRAME}${after}`;
}

export interface TerminalBarOptions {
  /** The text left of the bar (flux: `before`). */
  before: () => string;
  /** Right of the bar: jobs per second (`--jps`) instead of the elapsed time. */
  jps: boolean;
  stream?: NodeJS.WriteStream;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class TerminalBar {
  /** Units done (the bar's fill is count / total). */
  count = 0;
  total = 0;
  /** The rate shown with --jps; the owner sets it as units complete. */
  jps = 0;
  private readonly stream: NodeJS.WriteStream;
  private t0 = 0;
  private size: { columns: number; lines: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastDraw = 0;
  private readonly onExit = (): void => this.stop();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.stop();
    // the terminal is restored; die of the signal unless someone else handles it
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  constructor(private readonly opts: TerminalBarOptions) {
    this.stream = opts.stream ?? process.stdout;
  }

  /** Seconds since start(). */
  get elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Completed units per second so far (flux counts the unit being completed: count + 1). */
  rate(): number {
    return (this.count + 1) / (this.elapsed || Number.MIN_VALUE);
  }

  /** The line for a terminal `columns` wide. */
  line(columns: number): string {
    const fraction = this.total ? this.count / this.total : 0;
    const percent = pyFormat(new PyFloat(100 * fraction), '5.1f');
    const after = this.opts.jps
      ? `${percent}% ${pyFormat(new PyFloat(this.jps), '4.1f')} job/s`
      : `${percent}% ${timedeltaStr(pyRound(this.elapsed))}`;
    return renderBar(this.opts.before(), after, fraction, columns);
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.t0 = performance.now();
    this.redraw();
    this.timer = setInterval(() => this.redraw(), 250);
    this.timer.unref();
    process.on('exit', this.onExit);
    for (const s of SIGNALS) process.on(s, this.onSignal);
    return this;
  }

  /** Redraw after a change (at most every 50 ms; the timer and stop() show the rest). */
  update(): void {
    if (this.running && performance.now() - this.lastDraw >= 50) this.redraw();
  }

  /** Draw the bar on the bottom row, leaving the cursor where it was. */
  redraw(): void {
    if (!this.running) return;
    const size = terminalSize(this.stream);
    if (!this.size || this.size.columns !== size.columns || this.size.lines !== size.lines) {
      this.size = size;
      // reserve the last row: scroll region rows 1..lines-1
      this.stream.write(`${SAVE}${ESC}[r${RESTORE}${ESC}D${ESC}M${SAVE}${ESC}[1;${size.lines - 1}r${RESTORE}`);
    }
    this.stream.write(
      `${SAVE}${ESC}[${size.lines};1H${ESC}[2K${ESC}[?7l${ESC}[0m${this.line(size.columns)}${ESC}[?7h${RESTORE}`,
    );
    this.lastDraw = performance.now();
  }

  /** Clear the bottom row, restore the whole screen for scrolling, print the final frame. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    for (const s of SIGNALS) process.removeListener(s, this.onSignal);
    const size = this.size ?? terminalSize(this.stream);
    this.stream.write(`${SAVE}${ESC}[${size.lines};1H${ESC}[K${ESC}[r${RESTORE}${this.line(size.columns)}\n`);
  }
}
