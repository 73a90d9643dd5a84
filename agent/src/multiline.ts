// Joins continuation lines into one event (stack traces and the like), like Filebeat's
// multiline and Vector's multiline options. A start pattern alone: a line that matches
// starts an event, any other joins the previous one (so a line without a timestamp joins
// the event before it). A continuation pattern alone: a line that matches joins the previous
// event. Both: a line joins only if it matches the continuation pattern and not the start
// pattern; a line matching neither stands alone. An event is emitted when the next one
// starts, when it reaches max_lines / max_bytes, or when no line came for `timeout`.
// Whenever an event does not start where it began — the rest of one cut at its maximum, or
// continuation lines that arrived after a pause had already emitted their head — it is
// flagged "multiline_split", so the pieces can be found; nothing is dropped.

import type { Envelope } from './container-envelope.js';

export interface MultilineConfig {
  start_pattern?: string;
  continuation_pattern?: string;
  max_lines: number;
  max_bytes: number;
  timeout: number;
}

export interface JoinedEvent {
  text: string;
  /** Byte offset of the event's first line (its id is derived from it). */
  offset: number;
  /** Byte offset just past its last line. */
  end: number;
  flags?: string[];
  /** The container envelope of the event's first line (formats docker and cri). */
  envelope?: Envelope;
}

export class MultilineJoiner {
  private readonly start?: RegExp;
  private readonly continuation?: RegExp;
  private lines: string[] = [];
  private bytes = 0;
  private offset = 0;
  private end = 0;
  private split = false;
  private lastLineAt = 0;
  private envelope?: Envelope;

  constructor(private readonly cfg: MultilineConfig) {
    if (cfg.start_pattern) this.start = new RegExp(cfg.start_pattern);
    if (cfg.continuation_pattern) this.continuation = new RegExp(cfg.continuation_pattern);
  }

  private continues(line: string): boolean {
    if (this.start && this.start.test(line)) return false;
    return this.continuation ? this.continuation.test(line) : true;
  }

  /** Feed one line; returns the previous event when this line completes it. */
  push(line: string, offset: number, end: number, envelope?: Envelope, now = Date.now()): JoinedEvent | undefined {
    this.lastLineAt = now;
    let done: JoinedEvent | undefined;
    if (this.lines.length > 0 && this.continues(line)) {
      if (this.lines.length >= this.cfg.max_lines || this.bytes + line.length > this.cfg.max_bytes) {
        done = this.take();
        this.split = true; // the continuation of an event cut at its maximum
      } else {
        this.lines.push(line);
        this.bytes += line.length + 1;
        this.end = end;
        return undefined;
      }
    } else if (this.lines.length > 0) {
      done = this.take();
    } else if (this.continues(line)) {
      this.split = true; // an orphan continuation: its head was emitted before (a pause) or never read
    }
    this.lines = [line];
    this.bytes = line.length;
    this.offset = offset;
    this.end = end;
    this.envelope = envelope;
    return done;
  }

  /** The pending event, if no line came for `timeout` (or always, with force). */
  flush(now = Date.now(), force = false): JoinedEvent | undefined {
    if (this.lines.length === 0) return undefined;
    if (!force && now - this.lastLineAt < this.cfg.timeout) return undefined;
    return this.take();
  }

  /** Offset of the pending event's first line. */
  get pendingOffset(): number {
    return this.offset;
  }

  get pending(): boolean {
    return this.lines.length > 0;
  }

  /** Forget the pending event (the file was truncated under it). */
  reset(): void {
    this.lines = [];
    this.bytes = 0;
    this.split = false;
  }

  private take(): JoinedEvent {
    const event: JoinedEvent = { text: this.lines.join('\n'), offset: this.offset, end: this.end };
    if (this.envelope) event.envelope = this.envelope;
    const flags: string[] = [];
    if (this.lines.length > 1) flags.push('multiline');
    if (this.split) flags.push('multiline_split');
    if (flags.length > 0) event.flags = flags;
    this.lines = [];
    this.bytes = 0;
    this.split = false;
    return event;
  }
}
