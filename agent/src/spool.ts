// The disk spool: sealed batches wait here, compressed, until the collector acknowledges
// them — across collector outages and agent restarts. A batch is written durably (temp
// file, fsync, rename) before its file offsets are committed, so once spooled it no
// longer depends on the log file still being there. Bounded by max_bytes: when full,
// append() waits, the pipeline fills and the harvesters stop reading (backpressure); nothing
// is dropped.
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@stacklens/common';

interface SpoolEntry {
  seq: number;
  file: string;
  bytes: number;
  events: number;
  sending: boolean;
  /**
   * May have reached the collector before, first no earlier than this (epoch ms): found at
   * start-up (sent or not before the stop: since it was written), or holding re-read lines.
   */
  redeliverySince?: number;
}

const NAME = /^(\d{12})-(\d+)\.batch$/;

export class Spool {
  private readonly dir: string;
  private readonly entries: SpoolEntry[] = [];
  private seq = 0;
  private total = 0;
  private roomWaiters: (() => void)[] = [];
  private dataWaiters: (() => void)[] = [];

  constructor(
    stateDir: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.dir = join(stateDir, 'spool');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir).sort()) {
      const m = NAME.exec(name);
      if (!m) {
        if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name)); // a write cut short by a crash: its lines were not committed
        continue;
      }
      const { size: bytes, mtimeMs } = statSync(join(this.dir, name));
      this.entries.push({ seq: Number(m[1]), file: join(this.dir, name), bytes, events: Number(m[2]), sending: false, redeliverySince: Math.floor(mtimeMs) });
      this.total += bytes;
      this.seq = Number(m[1]) + 1;
    }
    if (this.entries.length > 0) this.log.info({ batches: this.entries.length, bytes: this.total }, 'spool holds batches from before the restart; sending them first');
  }

  get bytes(): number {
    return this.total;
  }

  get batches(): number {
    return this.entries.length;
  }

  get events(): number {
    return this.entries.reduce((n, e) => n + e.events, 0);
  }

  /** Write a batch durably; waits while the spool is full (an empty spool takes any batch). */
  async append(body: Buffer, events: number, redeliverySince?: number): Promise<void> {
    while (this.total > 0 && this.total + body.length > this.maxBytes) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    const seq = this.seq++;
    const file = join(this.dir, `${String(seq).padStart(12, '0')}-${events}.batch`);
    const tmp = `${file}.tmp`;
    // Spooled batches hold log lines: readable by the agent's user only, whatever the log files allowed.
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    this.entries.push({ seq, file, bytes: body.length, events, sending: false, redeliverySince });
    this.total += body.length;
    this.wake('data');
  }

  /** The oldest batch not being sent, marked as being sent; waits for one. */
  async take(signal: AbortSignal): Promise<{ entry: SpoolEntry; body: Buffer } | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      const entry = this.entries.find((e) => !e.sending);
      if (entry) {
        entry.sending = true;
        return { entry, body: await readFile(entry.file) };
      }
      // The listener goes with the wait: the signal lives as long as the agent, and a listener
      // left on it per wait was a leak (one per batch taken after a wait).
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.dataWaiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The collector acknowledged the batch: delete it and make room. */
  async done(entry: SpoolEntry): Promise<void> {
    await unlink(entry.file);
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.total -= entry.bytes;
    this.wake('room');
  }

  private wake(what: 'room' | 'data'): void {
    const list = what === 'room' ? this.roomWaiters : this.dataWaiters;
    if (what === 'room') this.roomWaiters = [];
    else this.dataWaiters = [];
    for (const w of list) w();
  }
}
