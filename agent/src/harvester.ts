// Tails one file: reads it from a byte offset in large chunks, splits complete lines (in the
// input's encoding), unwraps container envelopes, joins multiline events and hands them to
// the pipeline with the offset just past each event. A partial last line waits for its
// newline. Follows the file by inode and knows it by its identity (file-identity.ts):
// truncation (size below the read position, or new first bytes) starts it again from 0
// under a new generation; after a rename or delete the rest is read, then the file is let
// go; an idle file is closed after close_inactive. A gzip-compressed file (decompress: true)
// is read once through gunzip, with offsets in its uncompressed text, so a rotated file that
// was compressed resumes where its plain self stopped.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { sleep, type Logger } from '@stacklens/common';
import type { EventBuilder, LineContext } from './event-builder.js';
import type { LineParser } from './parsers/index.js';
import { FINGERPRINT_BYTES, headMatches, type Fingerprint } from './file-identity.js';
import { MultilineJoiner, type MultilineConfig } from './multiline.js';
import { ContainerEnvelope, type DecodedRecord } from './container-envelope.js';
import { DECODINGS, looksBinary, type TextDecoding } from './text-decoding.js';

/** Where committed offsets go: the file's identity and its current path. */
export interface FileCursor {
  key: string;
  path: string;
  generation: number;
}

export interface HarvesterSink {
  /** One event, as the JSON text of a WireEvent (EventBuilder.encode). */
  push(event: string, cursor: FileCursor, endOffset: number): void;
  readonly full: boolean;
  waitForCapacity(): Promise<void>;
}

export interface ResumePoint {
  offset: number;
  generation: number;
}

/** Which identity a file's content has, and where to resume it (see Agent.resolveIdentity). */
export interface Resolution extends ResumePoint {
  identity: string;
  fp: Fingerprint;
}

/** Undefined: not now (a compressed copy whose original is still there). */
export type Resolver = (head: Buffer, path: string, inode: string, compressed: boolean) => Promise<Resolution | undefined>;

/** Told the longest head seen of an identified file (for telling it from files that only share its first line). */
export type HeadObserver = (identity: string, head: Buffer) => void;

/** Per-input running totals, shared by the harvesters of one input. */
export interface InputCounters {
  lines: number;
  bytes: number;
  /** Lines holding bytes that are not valid in the input's encoding (flagged invalid_utf8). */
  invalidLines: number;
}

export interface HarvesterOptions {
  maxLineBytes: number;
  multiline?: MultilineConfig;
  encoding?: keyof typeof DECODINGS;
  container?: 'docker' | 'cri';
  /** Read the file through gunzip (a compressed rotated file; decompress: true). */
  gzip?: boolean;
  readChunkBytes?: number;
  pollMs?: number;
  /** After a rename or delete, keep reading this long after the last data before closing. */
  closeRemovedAfterMs?: number;
  /** Close a file that has not grown for this long (discovery reopens it when it does). */
  closeInactiveMs?: number;
  /** Told when the file was opened (it is readable). */
  onOpen?: () => void;
}

/**
 * 'binary': the first block is not text; 'complete': a compressed file read to its end;
 * 'incomplete': a compressed file still being written; 'deferred': a compressed copy of a
 * file that is still there (tried again at the next scan).
 */
export type HarvestEnd = 'stopped' | 'removed' | 'inactive' | 'replaced' | 'binary' | 'complete' | 'incomplete' | 'deferred';

/**
 * Bytes read from a file at a time. The lines of one read all go into the batch before the
 * harvester looks at backpressure again, so this bounds how far each open file can run ahead
 * of the compressor and the collector, besides being the buffer every open file keeps.
 * Measured (bench --only agent, 10 files vs 1): 256 KiB, 13–14 MiB more private memory; 32 KiB
 * (Fluent Bit's tail chunk too), 5 MiB; throughput the same within noise.
 */
export const READ_CHUNK_BYTES = 32 * 1024;

/** How much of a file's start `pattern: auto` reads to choose its pattern (enough for 50 lines). */
const SAMPLE_BYTES = 64 * 1024;

export const inodeKey = (st: { dev: bigint | number; ino: bigint | number }) => `${st.dev}:${st.ino}`;

export class Harvester {
  private stopped = false;
  private readonly abort = new AbortController();
  private fh?: FileHandle;
  /** Offset of the first byte not yet turned into a line. */
  private lineStart = 0;
  private generation = 0;
  private key?: string;
  private fp?: Fingerprint;
  private path: string;
  private readonly decoding: TextDecoding;
  /** Multiline joiners, one per container stream (stdout and stderr interleave; '' otherwise). */
  private readonly joiners = new Map<string, MultilineJoiner>();
  private readonly envelope?: ContainerEnvelope;
  /** Inside an over-long line whose head was already shipped. */
  private skipping = false;
  private warnedInvalid = false;
  /** Length of the longest head reported to observeHead. */
  private headSeen = 0;
  /** `pattern: auto`: this file's parser, chosen from its first lines when it is identified. */
  private parser?: LineParser;
  /** Bytes read when closed for inactivity; discovery reopens the file when its size differs. */
  closedAt?: number;

  constructor(
    path: string,
    /** device:inode — which file on disk this harvester follows. */
    readonly inode: string,
    private readonly resolve: Resolver,
    private readonly builder: EventBuilder,
    private readonly sink: HarvesterSink,
    private readonly opts: HarvesterOptions,
    private readonly log: Logger,
    private readonly counters: InputCounters = { lines: 0, bytes: 0, invalidLines: 0 },
    private readonly observeHead: HeadObserver = () => {},
  ) {
    this.path = path;
    this.decoding = DECODINGS[opts.encoding ?? 'utf-8'];
    if (opts.container) this.envelope = new ContainerEnvelope(opts.container, opts.maxLineBytes, (r) => this.afterEnvelope(r));
  }

  updatePath(path: string): void {
    this.path = path;
  }

  /** The identity of the content being read, and how far it was read (for a later reopen). */
  get position(): { key: string; offset: number; generation: number } | undefined {
    return this.key ? { key: this.key, offset: this.committable(), generation: this.generation } : undefined;
  }

  /** Bytes in the file not read yet. */
  async lag(): Promise<number> {
    if (this.opts.gzip) return 0;
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

  /** The identity in event ids: a truncated file's later generations get ids of their own. */
  private idIdentity(): string {
    return this.generation === 0 ? this.key! : `${this.key}#${this.generation}`;
  }

  private cursor(): FileCursor {
    return { key: this.key!, path: this.path, generation: this.generation };
  }

  /** Where reading may resume without losing a pending event (partial container record, multiline). */
  private committable(): number {
    return Math.min(this.lineStart, this.pendingOffset() ?? Infinity);
  }

  private pendingOffset(): number | undefined {
    const a = this.envelope?.pendingOffset;
    let min = a;
    for (const j of this.joiners.values()) if (j.pending && (min === undefined || j.pendingOffset < min)) min = j.pendingOffset;
    return min;
  }

  private get hasPending(): boolean {
    return this.pendingOffset() !== undefined;
  }

  // ── the stages a line goes through: decode → container envelope → multiline → build ──

  private emitLine(buf: Buffer, start: number, end: number, offset: number, endOffset: number, flags?: string[]): void {
    const decoded = this.decoding.decode(buf, start, end);
    if (decoded.invalid) {
      flags = flags ? [...flags, 'invalid_utf8'] : ['invalid_utf8'];
      this.counters.invalidLines++;
      if (!this.warnedInvalid) {
        this.warnedInvalid = true;
        this.log.warn({ path: this.path, offset, encoding: this.opts.encoding ?? 'utf-8' }, 'file has bytes that are not valid in its encoding: replaced by U+FFFD and flagged invalid_utf8 (set the input\'s encoding, e.g. latin1 or windows-1252)');
      }
    }
    if (this.envelope) this.envelope.push(decoded.text, offset, endOffset, flags);
    else this.afterEnvelope({ text: decoded.text, offset, end: endOffset, flags });
  }

  private afterEnvelope(r: DecodedRecord): void {
    if (!this.opts.multiline || r.error) return this.ship(r.text, r.offset, r.end, r);
    const stream = r.envelope?.stream ?? '';
    let joiner = this.joiners.get(stream);
    if (!joiner) this.joiners.set(stream, (joiner = new MultilineJoiner(this.opts.multiline)));
    if (r.flags?.includes('truncated')) {
      // A cut line stands alone: it ends whatever was pending.
      this.flushJoiner(joiner, true);
      return this.ship(r.text, r.offset, r.end, r);
    }
    const done = joiner.push(r.text, r.offset, r.end, r.envelope);
    if (done) this.ship(done.text, done.offset, done.end, done);
  }

  private ship(text: string, offset: number, end: number, ctx?: LineContext): void {
    const event = this.builder.encode(text, this.path, this.idIdentity(), offset, ctx, this.parser);
    this.counters.lines++;
    // Never commit past an event still pending in an earlier stage (another stream's partial record).
    const pending = this.pendingOffset();
    this.sink.push(event, this.cursor(), pending !== undefined && pending < end ? pending : end);
  }

  private flushMultiline(force: boolean): void {
    for (const joiner of this.joiners.values()) this.flushJoiner(joiner, force);
  }

  private flushJoiner(joiner: MultilineJoiner, force: boolean): void {
    const done = joiner.flush(Date.now(), force);
    if (done) this.ship(done.text, done.offset, done.end, done);
  }

  /** Everything pending becomes an event (the file ended for good). */
  private flushAll(): void {
    this.envelope?.flush();
    this.flushMultiline(true);
  }

  /**
   * Turn the complete lines in buf[0, total) — buf[0] is at file offset lineStart — into
   * events. Returns how many bytes were consumed. Over-long lines are cut at max_line_bytes
   * and flagged; the rest of such a line is skipped.
   */
  private frame(buf: Buffer, total: number): number {
    const max = this.opts.maxLineBytes;
    const nlBytes = this.decoding.newlineBytes;
    let pos = 0;
    for (let nl = this.decoding.newline(buf, 0, total, this.lineStart); nl !== -1; nl = this.decoding.newline(buf, pos, total, this.lineStart)) {
      if (this.skipping) {
        this.skipping = false;
      } else {
        // NUL bytes before a line are a hole (a writer going on at its old offset after a truncation), not text.
        let start = pos;
        if (buf[start] === 0 && nlBytes === 1) while (start < nl && buf[start] === 0) start++;
        const textEnd = nlBytes === 1 && nl > start && buf[nl - 1] === 13 ? nl - 1 : nl; // a CR is not text
        if (textEnd - start > max) this.emitLine(buf, start, this.charBoundary(buf, start, start + max), this.lineStart + start, this.lineStart + nl + nlBytes, ['truncated']);
        else if (nl > start && !this.isLoneCr(buf, start, nl)) this.emitLine(buf, start, nl, this.lineStart + start, this.lineStart + nl + nlBytes);
      }
      pos = nl + nlBytes;
    }
    return pos;
  }

  /** A line holding only a carriage return (an empty CRLF line) is no event. */
  private isLoneCr(buf: Buffer, start: number, end: number): boolean {
    if (end - start !== this.decoding.newlineBytes) return false;
    return this.decoding.newlineBytes === 1 ? buf[start] === 13 : (buf[start] === 13 && buf[start + 1] === 0) || (buf[start] === 0 && buf[start + 1] === 13);
  }

  /** Where to cut a line at `cut` without splitting a character (UTF-8 continuation bytes; UTF-16 code units). */
  private charBoundary(buf: Buffer, start: number, cut: number): number {
    if (this.decoding.newlineBytes === 2) return cut - ((cut - start) % 2);
    if (this.opts.encoding && this.opts.encoding !== 'utf-8') return cut;
    let c = cut;
    while (c > start && (buf[c] & 0xc0) === 0x80) c--;
    return c > start ? c : cut;
  }

  /** Frame the `total` bytes in buf, keep the unframed rest at its start; returns how many bytes stay. */
  private consume(buf: Buffer, total: number): number {
    const pos = this.frame(buf, total);
    if (pos > 0) {
      buf.copyWithin(0, pos, total);
      this.lineStart += pos;
    }
    return this.remainder(buf, total - pos);
  }

  /**
   * Back to the read chunk once a long line is through: a file keeps a bigger buffer only while
   * it reads a line that needs one (each read's lines go to the batch at once, see READ_CHUNK_BYTES).
   */
  private shrink(buf: Buffer, filled: number): Buffer {
    const chunk = this.opts.readChunkBytes ?? READ_CHUNK_BYTES;
    if (buf.length <= chunk || filled > chunk / 2) return buf;
    const smaller = Buffer.allocUnsafe(chunk);
    buf.copy(smaller, 0, 0, filled);
    return smaller;
  }

  /** A buffer full of one unfinished line: a bigger one, up to just past max_line_bytes. */
  private grow(buf: Buffer, filled: number): Buffer {
    const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, this.opts.maxLineBytes + 1 + this.decoding.newlineBytes));
    buf.copy(bigger, 0, 0, filled);
    return bigger;
  }

  /**
   * After framing: the unconsumed rest of buf, `filled` bytes at file offset lineStart.
   * Returns how many bytes of it stay buffered (the rest of an over-long line is skipped).
   */
  private remainder(buf: Buffer, filled: number): number {
    const max = this.opts.maxLineBytes;
    if (this.skipping && filled > 0) {
      // Still inside an over-long line whose head was shipped: drop until its newline.
      this.lineStart += filled;
      return 0;
    }
    if (filled > max) {
      // A line longer than max_line_bytes: ship its head, flagged, and skip the rest. Its end
      // offset stays at the line's start until the newline is read, so a restart re-reads it
      // and the same id deduplicates it.
      this.emitLine(buf, 0, this.charBoundary(buf, 0, max), this.lineStart, this.lineStart, ['truncated']);
      this.lineStart += filled;
      this.skipping = true;
      return 0;
    }
    return filled;
  }

  async run(): Promise<HarvestEnd> {
    this.fh = await open(this.path, 'r');
    this.opts.onOpen?.();
    try {
      // The path may have been rotated between discovery and open: only tail the file we were given.
      if (inodeKey(await this.fh.stat({ bigint: true })) !== this.inode) return 'replaced';
      return this.opts.gzip ? await this.readCompressed() : await this.loop();
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }

  private async readHead(): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(FINGERPRINT_BYTES);
    const { bytesRead } = await this.fh!.read(buf, 0, FINGERPRINT_BYTES, 0);
    return buf.subarray(0, bytesRead);
  }

  private truncated?: { key: string; generation: number };

  /** The first lines of the file (up to SAMPLE_BYTES), for `pattern: auto` to choose from. */
  private async sampleLines(): Promise<string[]> {
    const buf = Buffer.allocUnsafe(SAMPLE_BYTES);
    const { bytesRead } = await this.fh!.read(buf, 0, SAMPLE_BYTES, 0);
    return this.linesOf(buf, bytesRead, bytesRead < SAMPLE_BYTES);
  }

  /** Complete lines of a file's first bytes (the last one too when `whole`: the text ends there). */
  private linesOf(buf: Buffer, length: number, whole: boolean): string[] {
    const n = Math.min(length, SAMPLE_BYTES);
    const lines = this.decoding.decode(buf, this.decoding.bomLength(buf), n).text.split('\n');
    if (!whole || n < length) lines.pop();
    return lines;
  }

  /** Does a line break end just before `offset`? */
  private async endsLine(offset: number): Promise<boolean> {
    const n = this.decoding.newlineBytes;
    const buf = Buffer.alloc(n);
    const { bytesRead } = await this.fh!.read(buf, 0, n, offset - n);
    return bytesRead === n && this.decoding.newline(buf, 0, n, offset - n) === 0;
  }

  /** Decide who the file is and where to start, from its head. */
  private async identify(head: Buffer, size: number): Promise<'binary' | 'deferred' | 'ok'> {
    if (looksBinary(head, this.decoding)) return 'binary';
    const r = await this.resolve(head, this.path, this.inode, this.opts.gzip === true);
    if (!r) return 'deferred';
    this.key = r.identity;
    this.fp = r.fp;
    this.headSeen = head.length;
    this.observeHead(r.identity, head);
    if (r.identity === this.truncated?.key) {
      // Rewritten after a truncation with the same first bytes: a new generation, from 0.
      this.generation = this.truncated.generation;
      this.lineStart = 0;
    } else {
      this.generation = r.generation;
      this.lineStart = r.offset;
    }
    if (this.lineStart > size) {
      this.generation++;
      this.log.warn({ path: this.path, size, offset: this.lineStart }, 'file is shorter than the saved offset (truncated while we were away); reading it from the start');
      this.lineStart = 0;
    } else if (this.lineStart > 0 && Number.isFinite(size) && !(await this.endsLine(this.lineStart))) {
      // A saved offset is always just past a line break. If the byte before it is not one, the
      // file was rewritten in place while we were away (same first bytes, other content).
      this.generation++;
      this.log.warn({ path: this.path, offset: this.lineStart }, 'file was rewritten while we were away (no line ends at the saved offset); reading it from the start');
      this.lineStart = 0;
    }
    if (this.lineStart === 0) this.lineStart = this.decoding.bomLength(head);
    if (this.builder.detectsPerFile && !this.opts.gzip) this.parser = this.builder.parserForFile(await this.sampleLines());
    this.log.info({ path: this.path, identity: this.key, offset: this.lineStart }, 'tailing file');
    return 'ok';
  }

  private async loop(): Promise<HarvestEnd> {
    const pollMs = this.opts.pollMs ?? 250;
    const closeRemovedAfter = this.opts.closeRemovedAfterMs ?? 5000;
    const closeInactive = this.opts.closeInactiveMs ?? 5 * 60_000;
    const max = this.opts.maxLineBytes;
    let buf: Buffer = Buffer.allocUnsafe(this.opts.readChunkBytes ?? READ_CHUNK_BYTES);
    let filled = 0;
    let lastDataAt = Date.now();

    while (!this.stopped) {
      if (!this.key) {
        const head = await this.readHead();
        const size = (await this.fh!.stat()).size;
        if (size > 0 && (head.length >= FINGERPRINT_BYTES || head.indexOf(10) >= 0 || looksBinary(head, this.decoding))) {
          const identified = await this.identify(head, size);
          if (identified !== 'ok') return identified;
          continue;
        }
        if (Date.now() - lastDataAt > closeInactive) {
          this.closedAt = size; // reopened once it grows
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
      // A copytruncate can rewrite the file while we read it: check its first bytes are still ours.
      if (this.lineStart > 0) {
        const head = await this.readHead();
        if (!headMatches(head, this.fp!) && (await this.fh!.stat()).size > 0) {
          this.restartFromZero('first bytes changed (truncated and rewritten)');
          filled = 0;
          continue;
        }
        if (head.length > this.headSeen) {
          this.headSeen = head.length;
          this.observeHead(this.key!, head);
        }
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
          continue;
        }
        const idle = Date.now() - lastDataAt;
        if (idle > closeRemovedAfter && (await this.checkPath()) === 'gone') {
          // Renamed away or deleted: no newline will ever come for an unterminated last line.
          if (filled > 0 && !this.skipping) {
            this.emitLine(buf, 0, this.charBoundary(buf, 0, Math.min(filled, max)), this.lineStart, this.lineStart + filled, filled > max ? ['truncated'] : undefined);
            this.lineStart += filled;
            filled = 0;
          }
          this.flushAll();
          this.log.info({ path: this.path, offset: this.lineStart }, 'file renamed away or deleted and fully read; closing it');
          return 'removed';
        }
        if (idle > closeInactive && !this.hasPending) {
          // What was read, not what fstat says now: a line appended since must reopen the file.
          this.closedAt = this.lineStart + filled;
          this.log.debug({ path: this.path }, 'file inactive; closing it until it changes');
          return 'inactive';
        }
        continue;
      }
      lastDataAt = Date.now();
      this.counters.bytes += bytesRead;
      filled = this.consume(buf, filled + bytesRead);
      if (filled === buf.length) buf = this.grow(buf, filled);
      else buf = this.shrink(buf, filled);
    }
    return 'stopped';
  }

  /**
   * A gzip-compressed file: decompressed as a stream, its head identifies it (equal to the
   * plain file it was compressed from), bytes before the resume offset are skipped, the rest
   * framed like any file. A compressed file does not grow: once read to the end it is done.
   */
  private async readCompressed(): Promise<HarvestEnd> {
    const max = this.opts.maxLineBytes;
    const source = this.fh!.createReadStream({ start: 0, autoClose: false });
    const gunzip = createGunzip();
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
    let buf: Buffer = Buffer.allocUnsafe(this.opts.readChunkBytes ?? READ_CHUNK_BYTES);
    let filled = 0;
    let head: Buffer | undefined = Buffer.alloc(0);
    /** Uncompressed offset of buf[0] while skipping to the resume point. */
    let skipTo = 0;
    let position = 0;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        if (this.stopped) return 'stopped';
        let data = chunk;
        if (head) {
          head = Buffer.concat([head, data]);
          if (head.length < FINGERPRINT_BYTES) continue;
          data = head;
          head = undefined;
          const identified = await this.identify(data.subarray(0, FINGERPRINT_BYTES), Infinity);
          if (identified !== 'ok') return identified;
          if (this.builder.detectsPerFile) this.parser = this.builder.parserForFile(this.linesOf(data, data.length, false));
          skipTo = this.lineStart;
        }
        if (position + data.length <= skipTo) {
          position += data.length;
          continue;
        }
        if (position < skipTo) {
          data = data.subarray(skipTo - position);
          position = skipTo;
        }
        position += data.length;
        this.counters.bytes += data.length;
        for (let at = 0; at < data.length; ) {
          while (this.sink.full && !this.stopped) await this.sink.waitForCapacity();
          if (this.stopped) return 'stopped';
          if (filled === buf.length) buf = this.grow(buf, filled);
          const n = data.copy(buf, filled, at);
          at += n;
          filled = this.consume(buf, filled + n);
          buf = this.shrink(buf, filled);
        }
      }
      if (head) {
        // Shorter than one fingerprint block: the whole text is the head.
        if (head.length === 0) return 'complete';
        const identified = await this.identify(head, Infinity);
        if (identified !== 'ok') return identified;
        if (this.builder.detectsPerFile) this.parser = this.builder.parserForFile(this.linesOf(head, head.length, true));
        const data = head.subarray(Math.min(this.lineStart, head.length));
        this.counters.bytes += data.length;
        data.copy(buf, 0);
        const pos = this.frame(buf, data.length);
        buf.copyWithin(0, pos, data.length);
        this.lineStart += pos;
        filled = data.length - pos;
      }
      if (filled > 0 && !this.skipping) {
        // The last line of a compressed file has no newline: it will never get one.
        this.emitLine(buf, 0, Math.min(filled, max), this.lineStart, this.lineStart + filled, filled > max ? ['truncated'] : undefined);
        this.lineStart += filled;
      }
      this.flushAll();
      this.log.info({ path: this.path, identity: this.key, offset: this.lineStart }, 'compressed file read to its end');
      return 'complete';
    } catch (err) {
      if (this.stopped) return 'stopped';
      // Still being written (logrotate compressing it now) or damaged: what was read stays shipped; try again when it changes.
      this.log.warn({ path: this.path, offset: this.lineStart, err: (err as Error).message }, 'compressed file is incomplete or damaged; will read it again when it changes');
      return 'incomplete';
    } finally {
      source.destroy();
      gunzip.destroy();
    }
  }

  private restartFromZero(reason: string): void {
    this.generation++;
    this.truncated = { key: this.key!, generation: this.generation };
    this.log.warn({ path: this.path, offset: this.lineStart, generation: this.generation }, `${reason}; reading it again from the start`);
    for (const joiner of this.joiners.values()) joiner.reset();
    this.envelope?.reset();
    this.skipping = false;
    this.lineStart = 0;
    this.key = undefined; // re-identified from the new first bytes
  }

  private async checkPath(): Promise<'ok' | 'gone'> {
    try {
      return inodeKey(await stat(this.path, { bigint: true })) === this.inode ? 'ok' : 'gone';
    } catch {
      return 'gone';
    }
  }
}
