// Batches events, ships up to max_in_flight batches at once, and commits file offsets in
// batch order: a file's offset is committed only when its batch and every batch before it
// were acknowledged. Bounded: when too many batches wait, harvesters pause (backpressure).
import type { WireEvent } from '@stacklens/common';
import type { FileCursor, HarvesterSink } from './harvester.js';

export interface PipelineOptions {
  maxEvents: number;
  maxBytes: number;
  flushIntervalMs: number;
  maxInFlight: number;
}

interface Batch {
  seq: number;
  events: WireEvent[];
  bytes: number;
  ends: Map<string, { cursor: FileCursor; end: number }>;
  acked: boolean;
}

export type ShipFn = (events: WireEvent[]) => Promise<void>;
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
    private readonly ship: ShipFn,
    private readonly commit: CommitFn,
    private readonly onFailure: (err: unknown) => void = () => {},
  ) {}

  /** No more sending (shutdown): batches not acknowledged stay so, and are re-read after restart. */
  close(): void {
    this.closed = true;
  }

  push(event: WireEvent, approxBytes: number, cursor: FileCursor, endOffset: number): void {
    let batch = this.current;
    if (!batch) {
      batch = this.current = { seq: this.seq++, events: [], bytes: 0, ends: new Map(), acked: false };
      this.timer = setTimeout(() => this.seal(), this.opts.flushIntervalMs);
    }
    batch.events.push(event);
    batch.bytes += approxBytes;
    batch.ends.set(cursor.key, { cursor, end: endOffset });
    if (batch.events.length >= this.opts.maxEvents || batch.bytes >= this.opts.maxBytes) this.seal();
  }

  /** Sealed batches not yet acknowledged, beyond which harvesters wait. */
  get full(): boolean {
    return this.unacked.length >= this.opts.maxInFlight * 2;
  }

  get pendingEvents(): number {
    return this.unacked.reduce((n, b) => n + b.events.length, 0) + (this.current?.events.length ?? 0);
  }

  waitForCapacity(): Promise<void> {
    if (!this.full) return Promise.resolve();
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
      this.ship(batch.events).then(
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
      this.eventsAcked += batch.events.length;
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
