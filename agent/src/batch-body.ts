// The request body of one batch, compressed while the batch fills: event texts are gathered
// into chunks of about CHUNK_CHARS and each chunk goes to a gzip stream, which compresses it
// on libuv's thread pool, beside the main thread that parses the next lines. A batch thus
// holds its compressed bytes and one chunk of text, never all its events: memory stays small
// and flat, and the event strings die young (cheap to collect) instead of waiting in the heap
// until the batch is sent.
import { createGzip, type Gzip } from 'node:zlib';

/** Text gathered before it goes to the compressor (one thread-pool task per chunk). */
export const CHUNK_CHARS = 64 * 1024;

export class BatchBody {
  private readonly gzip: Gzip;
  private readonly out: Buffer[] = [];
  private parts: string[] = [];
  private chars = 0;
  private first = true;
  private done?: Promise<Buffer>;

  /** `head` and `tail` wrap the comma-separated events: `{"agent":…,"events":[` and `]}`. */
  constructor(
    head: string,
    private readonly tail: string,
    level = 1,
  ) {
    this.gzip = createGzip({ level });
    this.gzip.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.parts.push(head);
    this.chars = head.length;
  }

  /** Text handed to the compressor and not compressed yet (bytes). */
  get backlog(): number {
    return this.gzip.writableLength;
  }

  /** Add one event's JSON text. */
  add(eventText: string): void {
    if (this.first) this.first = false;
    else this.parts.push(',');
    this.parts.push(eventText);
    this.chars += eventText.length + 1;
    if (this.chars >= CHUNK_CHARS) this.flushText();
  }

  private flushText(): void {
    this.gzip.write(this.parts.join(''));
    this.parts = [];
    this.chars = 0;
  }

  /** The whole compressed body (the batch takes no more events). */
  finish(): Promise<Buffer> {
    this.done ??= new Promise<Buffer>((resolve, reject) => {
      this.parts.push(this.tail);
      this.flushText();
      this.gzip.once('error', reject);
      this.gzip.once('end', () => resolve(Buffer.concat(this.out)));
      this.gzip.end();
    });
    return this.done;
  }
}
