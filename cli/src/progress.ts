// Progress of a long file operation on stderr (stdout stays the command's output).

/** Files at least this large show progress. */
export const PROGRESS_FROM_BYTES = 1024 * 1024;

/** A progress bar on stderr, redrawn at most 5 times a second (one line per 10% when not a terminal). */
export class Progress {
  private last = 0;
  private lastStep = -1;
  private readonly started = Date.now();
  constructor(
    private readonly total: number,
    /** What is done to the bytes, for the messages ("replayed", "mined"). */
    private readonly verb: string,
  ) {}

  update(done: number): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const pct = Math.min(100, (100 * done) / this.total);
    const rate = done / 1024 / 1024 / Math.max(0.001, (now - this.started) / 1000);
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct.toFixed(1)}% ${rate.toFixed(1)} MiB/s`);
    } else if (Math.floor(pct / 10) > this.lastStep) {
      this.lastStep = Math.floor(pct / 10);
      process.stderr.write(`${this.verb} ${pct.toFixed(0)}% (${rate.toFixed(1)} MiB/s)\n`);
    }
  }

  done(): void {
    if (process.stderr.isTTY) process.stderr.write(`\r${' '.repeat(60)}\r`);
    process.stderr.write(`${this.verb} ${(this.total / 1024 / 1024).toFixed(1)} MiB in ${((Date.now() - this.started) / 1000).toFixed(1)} s\n`);
  }
}
