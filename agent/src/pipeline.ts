// Batches events, ships up to max_in_flight batches at once, and commits file offsets in
// batch order: a file's offset is committed only when its batch and every batch before it
// were acknowledged. Bounded: when too many batches wait, harvesters pause (backpressure).
// Events arrive as their JSON text (EventBuilder.encode) and go straight into the batch's
// body (batch-body.ts), compressed while the batch fills: a batch costs its compressed
// bytes, not its events.
import type { FileCursor, HarvesterSink } from './harvester.js';

/** A batch's request body being written: the pipeline adds events, then asks for the bytes. */
export interface BodyWriter {
  add(eventText: string): void;
  finish(): Promise<Buffer>;
  /** Bytes written but not compressed yet. */
  readonly backlog?: number;
}

/** How often a harvester looks again while the compressor catches up. */
const BACKLOG_POLL_MS = 5;

export interface PipelineOptions {
  maxEvents: number;
  maxBytes: number;
  flushIntervalMs: number;
  maxInFlight: number;
}

interface Batch {
  seq: number;
  body: BodyWriter;
  events: number;
  /** Characters of the events' text (≈ bytes: log lines are mostly ASCII). */
  bytes: number;
  ends: Map<string, { cursor: FileCursor; end: number }>;
  acked: boolean;
  /** Holds lines handed on before a restart, first sent no earlier than this (epoch ms): the collector checks them across backing indices. */
  redeliverySince?: number;
}

/** What the sender learns of a sealed batch besides its body. */
export interface BatchFacts {
  events: number;
  /** It holds lines that may have been delivered before the agent restarted, first no earlier than this (epoch ms). */
  redeliverySince?: number;
  /** Where each of its files ends in it. */
  ends: Iterable<{ cursor: FileCursor; end: number }>;
}

/** Send one sealed batch: its body (written and compressed) and what it holds. */
export type ShipFn = (body: Promise<Buffer>, batch: BatchFacts) => Promise<void>;
export type CommitFn = (cursor: FileCursor, endOffset: number) => void;

export class Pipeline implements HarvesterSink {
  private current?: Batch;
  private timer?: NodeJS.Timeout;
  private seq = 0;
  private readonly unacked: Batch[] = [];
  private readonly toSend: Batch[] = [];
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  eventsAcked = 0;
  batchesAcked = 0;
  /** Sends that failed for a reason other than shutdown (each retried after a pause). */
  failures = 0;
  private closed = false;

  constructor(
    private readonly opts: PipelineOptions,
    /** A new batch's body writer. */
    private readonly newBody: () => BodyWriter,
    private readonly ship: ShipFn,
    private readonly commit: CommitFn,
    private readonly onFailure: (err: unknown) => void = () => {},
    /** Was this line handed on before a restart, and since when? (shipped-marks.ts) */
    private readonly redelivers: (cursor: FileCursor, endOffset: number) => number | undefined = () => undefined,
  ) {}

  /** No more sending (shutdown): batches not acknowledged stay so, and are re-read after restart. */
  close(): void {
    this.closed = true;
  }

  push(event: string, cursor: FileCursor, endOffset: number): void {
    let batch = this.current;
    if (!batch) {
      batch = this.current = { seq: this.seq++, body: this.newBody(), events: 0, bytes: 0, ends: new Map(), acked: false };
      this.timer = setTimeout(() => this.seal(), this.opts.flushIntervalMs);
    }
    batch.body.add(event);
    batch.events++;
    batch.bytes += event.length;
    batch.ends.set(cursor.key, { cursor, end: endOffset });
    const since = this.redelivers(cursor, endOffset);
    if (since !== undefined && !(batch.redeliverySince! <= since)) batch.redeliverySince = since;
    if (batch.events >= this.opts.maxEvents || batch.bytes >= this.opts.maxBytes) this.seal();
  }

  /**
   * Harvesters wait: too many sealed batches are not acknowledged, or the compressor (on the
   * thread pool) has more than one batch's worth (max_bytes) of text still to compress.
   */
  get full(): boolean {
    return this.unacked.length >= this.opts.maxInFlight * 2 || this.backlog() > this.opts.maxBytes;
  }

  private backlog(): number {
    let n = this.current?.body.backlog ?? 0;
    for (const b of this.unacked) if (!b.acked) n += b.body.backlog ?? 0;
    return n;
  }

  get pendingEvents(): number {
    return this.unacked.reduce((n, b) => n + b.events, 0) + (this.current?.events ?? 0);
  }

  waitForCapacity(): Promise<void> {
    if (!this.full) return Promise.resolve();
    // Waiting for acks: woken by the ack. Waiting for the compressor: looked at again shortly.
    if (this.unacked.length < this.opts.maxInFlight * 2) return new Promise((resolve) => setTimeout(resolve, BACKLOG_POLL_MS));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Close the current batch and queue it for sending. */
  seal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.current;
    if (!batch) return;
    this.current = undefined;
    this.unacked.push(batch);
    this.toSend.push(batch);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.toSend.length > 0) {
      const batch = this.toSend.shift()!;
      this.inFlight++;
      this.ship(batch.body.finish(), { events: batch.events, redeliverySince: batch.redeliverySince, ends: batch.ends.values() }).then(
        () => {
          this.inFlight--;
          batch.acked = true;
          this.commitAckedPrefix();
          this.pump();
        },
        (err) => {
          this.inFlight--;
          // On shutdown the batch stays unacknowledged and is re-read after restart. Any other
          // failure must not leave it stuck at the head of the queue (every later offset would
          // wait for it): it is sent again after a pause.
          if (this.closed) return;
          this.failures++;
          this.onFailure(err);
          setTimeout(() => {
            if (this.closed) return;
            this.toSend.unshift(batch);
            this.pump();
          }, 1000).unref();
        },
      );
    }
  }

  private commitAckedPrefix(): void {
    while (this.unacked.length > 0 && this.unacked[0].acked) {
      const batch = this.unacked.shift()!;
      this.eventsAcked += batch.events;
      this.batchesAcked++;
      for (const { cursor, end } of batch.ends.values()) this.commit(cursor, end);
    }
    if (!this.full && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Seal what is buffered and wait (up to timeoutMs) until everything was acknowledged. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.seal();
    const deadline = Date.now() + timeoutMs;
    while (this.unacked.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.unacked.length === 0;
  }

  /** Wake any waiting harvester (used on shutdown). */
  releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
