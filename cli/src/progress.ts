// Progress of a long operation on stderr (stdout stays the command's output).

/** Files at least this large show progress. */
export const PROGRESS_FROM_BYTES = 1024 * 1024;

/** What is counted: bytes (shown in MiB) or rows. */
export type ProgressUnit = 'bytes' | 'rows';

const amount = (n: number, unit: ProgressUnit) => (unit === 'bytes' ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n.toLocaleString('en-US')} rows`);
const rate = (n: number, seconds: number, unit: ProgressUnit) => (unit === 'bytes' ? `${(n / 1024 / 1024 / seconds).toFixed(1)} MiB/s` : `${Math.round(n / seconds).toLocaleString('en-US')} rows/s`);

/** A progress bar on stderr, redrawn at most 5 times a second (one line per 10% when not a terminal). */
export class Progress {
  private last = 0;
  private lastStep = -1;
  private readonly started = Date.now();
  constructor(
    private readonly total: number,
    /** What is done ("replayed", "mined", "exported"), for the messages. */
    private readonly verb: string,
    private readonly unit: ProgressUnit = 'bytes',
  ) {}

  update(done: number): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const pct = this.total > 0 ? Math.min(100, (100 * done) / this.total) : 100;
    const speed = rate(done, Math.max(0.001, (now - this.started) / 1000), this.unit);
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct.toFixed(1)}% ${speed}`);
    } else if (Math.floor(pct / 10) > this.lastStep) {
      this.lastStep = Math.floor(pct / 10);
      process.stderr.write(`${this.verb} ${pct.toFixed(0)}% (${speed})\n`);
    }
  }

  /** The closing line: how much (`done`, default the total) in how long. */
  done(done = this.total): void {
    if (process.stderr.isTTY) process.stderr.write(`\r${' '.repeat(60)}\r`);
    process.stderr.write(`${this.verb} ${amount(done, this.unit)} in ${((Date.now() - this.started) / 1000).toFixed(1)} s\n`);
  }
}
