// How far each file's lines were handed to the collector (or the spool), ahead of the
// registry's acknowledged offsets. After a restart the agent re-reads from the registry's
// offset; the lines up to this mark may have reached Elasticsearch already, so their batches
// are sent marked as redeliveries (wire.ts: REDELIVERY_HEADER) and the collector looks their ids
// up across every backing index — a rollover in between cannot double them. Lines past the
// mark were never sent and cost nothing extra.
//
// Written before each batch is sent, on the agent's hot path, so as cheaply as can be: one
// positional write over the file's start through a descriptor kept open, the JSON padded with
// spaces to the file's length (JSON.parse ignores them), so the file never needs truncating.
// No fsync: it must survive the agent being killed, which the page cache does; after a power
// loss the registry's fsynced offsets are older too, and the lines between are redelivered
// unmarked — deduplicated as before within the write index; a torn file reads as "nothing
// known". Pruned whenever the registry is written: a mark at or below the acknowledged offset
// on disk can never be re-read.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

interface Mark {
  /** The file's generation (bumped on truncation: a new generation's offsets are new lines). */
  g: number;
  /** End offset of the last line handed on. */
  o: number;
  /** When the first line since the last acknowledged offset was handed on (epoch ms): the earliest the re-read lines can have reached the collector. */
  t?: number;
}

export interface MarkedPosition {
  key: string;
  generation: number;
}

export class ShippedMarks {
  private readonly file: string;
  /** Marks found at start-up: the lines up to them may be re-read and redelivered. */
  private readonly before = new Map<string, Mark>();
  private readonly current = new Map<string, Mark>();
  private dirty = false;
  private fd?: number;
  /** Bytes the file holds (what a shorter text is padded to). */
  private length = 0;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'shipped.json');
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Mark>;
      for (const [key, mark] of Object.entries(data)) {
        if (Number.isInteger(mark?.g) && Number.isInteger(mark?.o)) {
          this.before.set(key, mark);
          this.current.set(key, mark);
        }
      }
    } catch {
      // none yet (or unreadable: then nothing is known to be redelivered — the old behaviour)
    }
  }

  /**
   * Was the line ending at `end` handed on before the restart? Then the earliest time it can
   * first have been sent (epoch ms; 1 when unknown): its batch is a redelivery. Else undefined.
   */
  redelivers(pos: MarkedPosition, end: number): number | undefined {
    if (this.before.size === 0) return undefined;
    const mark = this.before.get(pos.key);
    return mark !== undefined && mark.g === pos.generation && end <= mark.o ? (mark.t ?? 1) : undefined;
  }

  /** A batch is about to be sent: raise the marks of its files and write them before it goes. */
  handedOn(ends: Iterable<{ pos: MarkedPosition; end: number }>): void {
    for (const { pos, end } of ends) {
      const mark = this.current.get(pos.key);
      if (!mark || mark.g !== pos.generation) {
        this.current.set(pos.key, { g: pos.generation, o: end, t: Date.now() });
        this.dirty = true;
      } else if (mark.o < end) {
        this.current.set(pos.key, { ...mark, o: end });
        this.dirty = true;
      }
    }
    if (this.dirty) this.write();
  }

  /** The registry was written with these acknowledged offsets: drop marks they cover. */
  prune(acknowledged: (key: string) => { offset: number; generation: number } | undefined): void {
    for (const [key, mark] of this.current) {
      const at = acknowledged(key);
      if (at && (at.generation > mark.g || (at.generation === mark.g && at.offset >= mark.o))) {
        this.current.delete(key);
        this.dirty = true;
      }
    }
    if (this.dirty) this.write();
  }

  /** Let go of the file (agent stop); a later write opens it again. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.length = 0;
  }

  private write(): void {
    this.fd ??= openSync(this.file, 'w', 0o600);
    const text = JSON.stringify(Object.fromEntries(this.current));
    const bytes = Buffer.byteLength(text);
    writeSync(this.fd, bytes < this.length ? text + ' '.repeat(this.length - bytes) : text, 0);
    this.length = Math.max(this.length, bytes);
    this.dirty = false;
  }
}
