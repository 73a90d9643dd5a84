// Container log files, as the runtimes write them, before anything else reads the line:
//   docker json-file: {"log":"text\n","stream":"stderr","time":"2017-06-09T20:10:40.123456789Z"}
//   cri (containerd, CRI-O): 2017-06-09T20:10:40.123456789Z stderr F text
// A runtime splits a long line into partial records (docker: a `log` without its trailing
// newline; cri: tag P) and ends it with a final one; they are joined here, per stream, into
// the application's line. The joined text is bounded by max_line_bytes: past it the event is
// emitted flagged `split` and the rest continues as a new one — nothing is dropped.

export interface Envelope {
  time?: string;
  stream?: string;
}

export interface DecodedRecord {
  text: string;
  offset: number;
  end: number;
  flags?: string[];
  envelope?: Envelope;
  /** The line could not be read as the runtime's format: dead-lettered with this reason. */
  error?: { type: string; message: string };
  /** The line as read, when the record is one line: what a dead letter keeps. */
  raw?: string;
}

interface Pending {
  parts: string[];
  bytes: number;
  offset: number;
  envelope: Envelope;
  split: boolean;
}

type Unwrapped = { text: string; partial: boolean; envelope: Envelope } | { error: string };

const CRI = /^(\S+) (stdout|stderr) ([A-Z](?::[A-Z])*)(?: (.*))?$/s;

function unwrapDocker(line: string): Unwrapped {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (err) {
    return { error: `not a docker json-file line: ${(err as Error).message}` };
  }
  const rec = obj as { log?: unknown; stream?: unknown; time?: unknown };
  if (rec === null || typeof rec !== 'object' || typeof rec.log !== 'string') return { error: 'not a docker json-file line: expected an object with a string "log"' };
  const partial = !rec.log.endsWith('\n');
  const text = partial ? rec.log : rec.log.slice(0, rec.log.endsWith('\r\n') ? -2 : -1);
  return { text, partial, envelope: { time: typeof rec.time === 'string' ? rec.time : undefined, stream: typeof rec.stream === 'string' ? rec.stream : undefined } };
}

function unwrapCri(line: string): Unwrapped {
  const m = CRI.exec(line);
  if (!m) return { error: 'not a CRI log line: expected "<time> <stdout|stderr> <F|P> <text>"' };
  return { text: m[4] ?? '', partial: m[3].split(':').includes('P'), envelope: { time: m[1], stream: m[2] } };
}

export class ContainerEnvelope {
  private readonly pending = new Map<string, Pending>();
  private readonly unwrap: (line: string) => Unwrapped;

  constructor(
    format: 'docker' | 'cri',
    private readonly maxBytes: number,
    private readonly emit: (record: DecodedRecord) => void,
  ) {
    this.unwrap = format === 'docker' ? unwrapDocker : unwrapCri;
  }

  push(line: string, offset: number, end: number, flags?: string[]): void {
    const u = this.unwrap(line);
    if ('error' in u) {
      this.emit({ text: line, offset, end, flags, error: { type: 'container.format', message: u.error } });
      return;
    }
    const stream = u.envelope.stream ?? '';
    let p = this.pending.get(stream);
    if (!p && !u.partial) {
      // An empty record (a bare newline) is no event, as an empty line is none.
      if (u.text !== '') this.emit({ text: u.text, offset, end, flags, envelope: u.envelope, raw: line });
      return;
    }
    if (!p) {
      p = { parts: [], bytes: 0, offset, envelope: u.envelope, split: false };
      this.pending.set(stream, p);
    }
    if (p.bytes + u.text.length > this.maxBytes && p.parts.length > 0) {
      this.emitPending(stream, p, offset, true);
      p = { parts: [], bytes: 0, offset, envelope: u.envelope, split: true };
      this.pending.set(stream, p);
    }
    p.parts.push(u.text);
    p.bytes += u.text.length;
    if (!u.partial) this.emitPending(stream, p, end, false);
  }

  /** `end`: where reading resumes after this event (for a cut, the line that continues it). */
  private emitPending(stream: string, p: Pending, end: number, cut: boolean): void {
    this.pending.delete(stream);
    const flags = p.split || cut ? ['split'] : undefined;
    let text = p.parts.join('');
    if (!cut && text.endsWith('\r')) text = text.slice(0, -1); // a CRLF split over two records
    if (text !== '' || flags) this.emit({ text, offset: p.offset, end, flags, envelope: p.envelope });
  }

  /** Emit what is pending (the file ends without a final record: a stopped container). */
  flush(): void {
    for (const [stream, p] of [...this.pending]) this.emitPending(stream, p, p.offset, false);
  }

  /** Offset of the oldest pending partial record: reading may resume there without losing it. */
  get pendingOffset(): number | undefined {
    let min: number | undefined;
    for (const p of this.pending.values()) if (min === undefined || p.offset < min) min = p.offset;
    return min;
  }

  reset(): void {
    this.pending.clear();
  }
}
