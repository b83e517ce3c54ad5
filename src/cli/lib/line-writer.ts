/**
 * Text for a stream gathered into few writes: what is written in one turn of the event loop
 * goes out in one write at its end (or as soon as `limit` characters are waiting), not one
 * write (a system call on a pipe or file) per line. `flush()` writes what waits now: before
 * anything else is written elsewhere (stderr, another writer of the stream), and at the end.
 */
export class LineWriter {
  private text = '';
  private scheduled = false;

  /** `limit` 0 writes everything at once (no gathering). */
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly limit = 1 << 16,
  ) {}

  write(s: string): void {
    this.text += s;
    if (this.text.length >= this.limit) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.text === '') return;
    const s = this.text;
    this.text = '';
    this.stream.write(s);
  }
}
