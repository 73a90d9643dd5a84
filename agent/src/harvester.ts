// Tails one file: reads it from a byte offset in large chunks, splits complete lines (and
// joins multiline events) and hands them to the pipeline with the offset just past each
// event. A partial last line waits for its newline. Follows the file by inode and knows it
// by the fingerprint of its first line: truncation (size below the read position, or a new
// first line) starts it again from 0 under a new identity; after a rename or delete the
// rest is read, then the file is let go; an idle file is closed after close_inactive.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { sleep, type WireEvent, type Logger } from '@stacklens/common';
import type { EventBuilder } from './event-builder.js';
import { readFingerprint } from './fingerprint.js';
import { MultilineJoiner, type MultilineConfig } from './multiline.js';

/** Where committed offsets go: the file's identity (fingerprint) and its current path. */
export interface FileCursor {
  key: string;
  path: string;
  generation: number;
}

export interface HarvesterSink {
  push(event: WireEvent, approxBytes: number, cursor: FileCursor, endOffset: number): void;
  readonly full: boolean;
  waitForCapacity(): Promise<void>;
}

export interface ResumePoint {
  offset: number;
  generation: number;
}

/** Per-input running totals, shared by the harvesters of one input. */
export interface InputCounters {
  lines: number;
  bytes: number;
}

export interface HarvesterOptions {
  maxLineBytes: number;
  multiline?: MultilineConfig;
  readChunkBytes?: number;
  pollMs?: number;
  /** After a rename or delete, keep reading this long after the last data before closing. */
  closeRemovedAfterMs?: number;
  /** Close a file that has not grown for this long (discovery reopens it when it does). */
  closeInactiveMs?: number;
}

export type HarvestEnd = 'stopped' | 'removed' | 'inactive' | 'replaced';

export const inodeKey = (st: { dev: bigint | number; ino: bigint | number }) => `${st.dev}:${st.ino}`;

export class Harvester {
  private stopped = false;
  private readonly abort = new AbortController();
  private fh?: FileHandle;
  /** Offset of the first byte not yet turned into an event. */
  private lineStart = 0;
  private generation = 0;
  private fingerprint?: string;
  private path: string;
  private readonly joiner?: MultilineJoiner;
  /** Bytes read when closed for inactivity; discovery reopens the file when its size differs. */
  closedAt?: number;

  constructor(
    path: string,
    /** device:inode — which file on disk this harvester follows. */
    readonly inode: string,
    /** Where to start for a file known by this fingerprint (registry, or a previous harvester). */
    private readonly resume: (fingerprint: string) => ResumePoint | undefined,
    private readonly builder: EventBuilder,
    private readonly sink: HarvesterSink,
    private readonly opts: HarvesterOptions,
    private readonly log: Logger,
    private readonly counters: InputCounters = { lines: 0, bytes: 0 },
  ) {
    this.path = path;
    if (opts.multiline) this.joiner = new MultilineJoiner(opts.multiline);
  }

  updatePath(path: string): void {
    this.path = path;
  }

  /** The identity of the content being read, and how far it was read (for a later reopen). */
  get position(): { key: string; offset: number; generation: number } | undefined {
    return this.fingerprint ? { key: this.fingerprint, offset: this.committable(), generation: this.generation } : undefined;
  }

  /** Bytes in the file not read yet. */
  async lag(): Promise<number> {
    try {
      return Math.max(0, (await this.fh!.stat()).size - this.lineStart);
    } catch {
      return 0;
    }
  }

  get currentPath(): string {
    return this.path;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private identity(): string {
    return this.generation === 0 ? this.fingerprint! : `${this.fingerprint}#${this.generation}`;
  }

  private cursor(): FileCursor {
    return { key: this.fingerprint!, path: this.path, generation: this.generation };
  }

  /** Where reading may resume without losing a pending multiline event. */
  private committable(): number {
    return this.joiner?.pending ? this.joiner.pendingOffset : this.lineStart;
  }

  private emit(text: string, offset: number, end: number, flags?: string[]): void {
    if (!this.joiner) return this.ship(text, offset, end, flags);
    if (flags) {
      // A cut line stands alone: it ends whatever was pending.
      this.flushMultiline(true);
      return this.ship(text, offset, end, flags);
    }
    const done = this.joiner.push(text, offset, end);
    if (done) this.ship(done.text, done.offset, done.end, done.flags);
  }

  private ship(text: string, offset: number, end: number, flags?: string[]): void {
    const event = this.builder.build(text, this.path, this.identity(), offset, flags);
    this.counters.lines++;
    this.sink.push(event, text.length + 256, this.cursor(), end);
  }

  private flushMultiline(force: boolean): void {
    const done = this.joiner?.flush(Date.now(), force);
    if (done) this.ship(done.text, done.offset, done.end, done.flags);
  }

  async run(): Promise<HarvestEnd> {
    this.fh = await open(this.path, 'r');
    try {
      // The path may have been rotated between discovery and open: only tail the file we were given.
      if (inodeKey(await this.fh.stat({ bigint: true })) !== this.inode) return 'replaced';
      return await this.loop();
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }

  /** Wait for the first line, then decide where to start. */
  private async identify(): Promise<boolean> {
    const fp = await readFingerprint(this.fh!);
    if (!fp) return false;
    const size = (await this.fh!.stat()).size;
    this.fingerprint = fp;
    if (fp === this.truncated?.fingerprint) {
      // Rewritten after a truncation with the same first line: a new generation, from 0.
      this.generation = this.truncated.generation;
      this.lineStart = 0;
    } else {
      const saved = this.resume(fp);
      this.generation = saved?.generation ?? 0;
      this.lineStart = saved?.offset ?? 0;
    }
    if (this.lineStart > size) {
      this.generation++;
      this.log.warn({ path: this.path, size, offset: this.lineStart }, 'file is shorter than the saved offset (truncated while we were away); reading it from the start');
      this.lineStart = 0;
    }
    this.log.info({ path: this.path, fingerprint: fp, offset: this.lineStart }, 'tailing file');
    return true;
  }

  private async loop(): Promise<HarvestEnd> {
    const pollMs = this.opts.pollMs ?? 250;
    const closeRemovedAfter = this.opts.closeRemovedAfterMs ?? 5000;
    const closeInactive = this.opts.closeInactiveMs ?? 5 * 60_000;
    const max = this.opts.maxLineBytes;
    let buf = Buffer.allocUnsafe(this.opts.readChunkBytes ?? 256 * 1024);
    let filled = 0;
    let skipping = false; // inside an over-long line whose head was already shipped
    let lastDataAt = Date.now();

    while (!this.stopped) {
      if (!this.fingerprint) {
        if (await this.identify()) continue;
        if (Date.now() - lastDataAt > closeInactive) {
          this.closedAt = (await this.fh!.stat()).size; // reopened once it grows
          return 'inactive';
        }
        if ((await this.checkPath()) === 'gone' && Date.now() - lastDataAt > closeRemovedAfter) return 'removed';
        await sleep(pollMs, this.abort.signal);
        continue;
      }
      if (this.sink.full) {
        await this.sink.waitForCapacity();
        continue;
      }
      // A copytruncate can rewrite the file while we read it: check the first line is still ours.
      if (this.lineStart > 0 && (await readFingerprint(this.fh!)) !== this.fingerprint && (await this.fh!.stat()).size > 0) {
        this.restartFromZero('first line changed (truncated and rewritten)');
        filled = 0;
        skipping = false;
        continue;
      }
      const { bytesRead } = await this.fh!.read(buf, filled, buf.length - filled, this.lineStart + filled);
      if (bytesRead === 0) {
        this.flushMultiline(false);
        await sleep(pollMs, this.abort.signal);
        if (this.stopped) break;
        const size = (await this.fh!.stat()).size;
        if (size < this.lineStart + filled) {
          this.restartFromZero(`file shrank to ${size} bytes`);
          filled = 0;
          skipping = false;
          continue;
        }
        const idle = Date.now() - lastDataAt;
        if (idle > closeRemovedAfter && (await this.checkPath()) === 'gone') {
          this.flushMultiline(true);
          this.log.info({ path: this.path, offset: this.lineStart }, 'file renamed away or deleted and fully read; closing it');
          return 'removed';
        }
        if (idle > closeInactive && !this.joiner?.pending) {
          // What was read, not what fstat says now: a line appended since must reopen the file.
          this.closedAt = this.lineStart + filled;
          this.log.debug({ path: this.path }, 'file inactive; closing it until it changes');
          return 'inactive';
        }
        continue;
      }
      lastDataAt = Date.now();
      this.counters.bytes += bytesRead;
      const total = filled + bytesRead;
      let pos = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < total; nl = buf.indexOf(10, pos)) {
        if (skipping) {
          skipping = false;
        } else {
          let end = nl;
          if (end > pos && buf[end - 1] === 13) end--; // CRLF
          if (end - pos > max) this.emit(buf.toString('utf8', pos, pos + max), this.lineStart + pos, this.lineStart + nl + 1, ['truncated']);
          else if (end > pos) this.emit(buf.toString('utf8', pos, end), this.lineStart + pos, this.lineStart + nl + 1);
        }
        pos = nl + 1;
      }
      if (pos > 0) {
        buf.copyWithin(0, pos, total);
        this.lineStart += pos;
      }
      filled = total - pos;
      if (skipping && filled > 0) {
        // Still inside an over-long line whose head was shipped: drop until its newline.
        this.lineStart += filled;
        filled = 0;
      } else if (filled > max) {
        // A line longer than max_line_bytes: ship its head, flagged, and skip the rest. Its
        // end offset stays at the line's start until the newline is read, so a restart
        // re-reads it and the same id deduplicates it.
        this.emit(buf.toString('utf8', 0, max), this.lineStart, this.lineStart, ['truncated']);
        this.lineStart += filled;
        filled = 0;
        skipping = true;
      } else if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
    }
    return 'stopped';
  }

  private truncated?: { fingerprint: string; generation: number };

  private restartFromZero(reason: string): void {
    this.generation++;
    this.truncated = { fingerprint: this.fingerprint!, generation: this.generation };
    this.log.warn({ path: this.path, offset: this.lineStart, generation: this.generation }, `${reason}; reading it again from the start`);
    this.joiner?.reset();
    this.lineStart = 0;
    this.fingerprint = undefined; // re-identified from the new first line
  }

  private async checkPath(): Promise<'ok' | 'gone'> {
    try {
      return inodeKey(await stat(this.path, { bigint: true })) === this.inode ? 'ok' : 'gone';
    } catch {
      return 'gone';
    }
  }
}
