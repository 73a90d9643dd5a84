// Tails one file: reads it from a byte offset in large chunks, splits complete lines and
// hands them to the pipeline with the offset just past each line. A partial last line
// waits for its newline. Handles truncation (start again from 0, new generation) and
// rename/delete (read the old file to its end, then let go of it).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { sleep, type WireEvent, type Logger } from '@stacklens/common';
import type { EventBuilder } from './event-builder.js';

/** Identifies one file across renames: device + inode (+ generation after truncations). */
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

export interface HarvesterOptions {
  maxLineBytes: number;
  readChunkBytes?: number;
  pollMs?: number;
  /** After a rename or delete, keep reading this long after the last data before closing. */
  closeRemovedAfterMs?: number;
}

export const fileKey = (st: { dev: bigint | number; ino: bigint | number }) => `${st.dev}:${st.ino}`;

export class Harvester {
  private stopped = false;
  private readonly abort = new AbortController();
  private fh?: FileHandle;
  /** Offset of the first byte not yet turned into an event (start of the pending partial line). */
  private lineStart: number;
  private generation: number;
  private path: string;
  linesRead = 0;
  bytesRead = 0;

  constructor(
    path: string,
    readonly key: string,
    startOffset: number,
    generation: number,
    private readonly builder: EventBuilder,
    private readonly sink: HarvesterSink,
    private readonly opts: HarvesterOptions,
    private readonly log: Logger,
  ) {
    this.path = path;
    this.lineStart = startOffset;
    this.generation = generation;
  }

  /** Discovery saw the same file under another name (renamed but still matching the glob). */
  updatePath(path: string): void {
    this.path = path;
  }

  get offset(): number {
    return this.lineStart;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private identity(): string {
    return this.generation === 0 ? this.key : `${this.key}#${this.generation}`;
  }

  private cursor(): FileCursor {
    return { key: this.key, path: this.path, generation: this.generation };
  }

  async run(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 250;
    const closeAfter = this.opts.closeRemovedAfterMs ?? 5000;
    const max = this.opts.maxLineBytes;
    let buf = Buffer.allocUnsafe(Math.min(this.opts.readChunkBytes ?? 256 * 1024, max + 1));
    let filled = 0;
    let skipping = false; // inside an over-long line whose head was already shipped
    let lastDataAt = Date.now();
    this.fh = await open(this.path, 'r');
    // The path may have been rotated between discovery and open: only tail the file we were given.
    if (fileKey(await this.fh.stat({ bigint: true })) !== this.key) {
      await this.fh.close();
      return;
    }
    try {
      while (!this.stopped) {
        if (this.sink.full) {
          await this.sink.waitForCapacity();
          continue;
        }
        const { bytesRead } = await this.fh.read(buf, filled, buf.length - filled, this.lineStart + filled);
        if (bytesRead === 0) {
          await sleep(pollMs, this.abort.signal);
          if (this.stopped) break;
          const state = await this.checkFile(filled);
          if (state === 'truncated') {
            filled = 0;
            skipping = false;
          } else if (state === 'gone' && Date.now() - lastDataAt > closeAfter) {
            this.log.info({ path: this.path, offset: this.lineStart }, 'file renamed or deleted and fully read; closing it');
            return;
          }
          continue;
        }
        lastDataAt = Date.now();
        this.bytesRead += bytesRead;
        const total = filled + bytesRead;
        let pos = 0;
        const identity = this.identity();
        const cursor = this.cursor();
        for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < total; nl = buf.indexOf(10, pos)) {
          const lineOffset = this.lineStart + pos;
          if (skipping) {
            skipping = false;
          } else {
            let end = nl;
            if (end > pos && buf[end - 1] === 13) end--; // CRLF
            if (end > pos) {
              const line = buf.toString('utf8', pos, end);
              const event = this.builder.build(line, this.path, identity, lineOffset);
              this.linesRead++;
              this.sink.push(event, end - pos + 256, cursor, this.lineStart + nl + 1);
            }
          }
          pos = nl + 1;
        }
        // Keep the partial line at the front of the buffer.
        if (pos > 0) {
          buf.copyWithin(0, pos, total);
          this.lineStart += pos;
        }
        filled = total - pos;
        if (filled === buf.length) {
          if (buf.length <= max) {
            const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
            buf.copy(bigger, 0, 0, filled);
            buf = bigger;
          } else {
            // A line longer than max_line_bytes: ship its head, flagged, and skip the rest.
            // The committed offset stays at the line's start until its newline is read, so a
            // restart re-reads it and the same id deduplicates it.
            const line = buf.toString('utf8', 0, max);
            const event = this.builder.build(line, this.path, this.identity(), this.lineStart, ['truncated']);
            this.linesRead++;
            this.sink.push(event, max + 256, this.cursor(), this.lineStart);
            this.lineStart += filled;
            filled = 0;
            skipping = true;
          }
        }
      }
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }

  /** At end of file: was the file truncated under us, or renamed/deleted? */
  private async checkFile(pending: number): Promise<'ok' | 'truncated' | 'gone'> {
    const own = await this.fh!.stat();
    if (own.size < this.lineStart + pending) {
      this.generation++;
      this.log.warn({ path: this.path, size: own.size, offset: this.lineStart, generation: this.generation }, 'file truncated; reading it again from the start');
      this.lineStart = 0;
      return 'truncated';
    }
    try {
      const named = await stat(this.path, { bigint: true });
      return fileKey(named) === this.key ? 'ok' : 'gone';
    } catch {
      return 'gone';
    }
  }
}
