// Sends batches to the collector: gzip-compressed JSON, bearer token, retried with
// jittered exponential backoff until acknowledged — a batch is never dropped. With several
// collector URLs it moves to the next one when one fails. Events arrive as their JSON text
// (EventBuilder.encode; one that cannot be encoded is already its dead letter there): a
// batch is their texts joined.
//
// One bad event never blocks the others: a batch the collector refuses as a client error (400,
// 413, 422) is split in halves until the refused event is alone, and that one is sent as a
// dead letter instead (reason and text, at most 32 KiB). A collector that refuses even that
// small dead letter is broken for every event, not for this one: it is retried with
// backoff like an outage, never dropped.
import { gunzip } from 'node:zlib';
import { BatchBody } from './batch-body.js';
import { promisify } from 'node:util';
import { CollectorHttp } from './collector-http.js';
import { Backoff, sleep, EVENTS_PATH, REDELIVERY_HEADER, type WireAck, type WireBatch, type WireEvent, type Logger } from '@stacklens/common';

const gunzipAsync = promisify(gunzip);

/** Statuses that say "this request is wrong": retrying it unchanged cannot help. */
const REFUSED = new Set([400, 413, 422]);
/** How much of a refused event's text a dead letter keeps. */
const DEAD_LETTER_TEXT = 32 * 1024;

/** The dead letter that stands for an event the collector cannot take as it is. */
function deadLetterOf(e: WireEvent, type: string, message: string): WireEvent {
  let raw = typeof e.raw === 'string' ? e.raw : typeof e.doc?.message === 'string' ? (e.doc.message as string) : '';
  if (raw.length > DEAD_LETTER_TEXT) raw = `${raw.slice(0, DEAD_LETTER_TEXT)}…`;
  const log = e.doc?.log as { file?: unknown; offset?: unknown } | undefined;
  return {
    id: e.id,
    dataset: e.dataset,
    namespace: e.namespace,
    doc: { '@timestamp': new Date().toISOString(), message: raw, log: log ? { file: log.file, offset: log.offset } : undefined },
    error: { type, message: message.slice(0, 1000) },
    raw,
  };
}

/** Is this event text already the dead letter of a refused event? (then refusing it is the collector's fault, not the event's) */
function isRefusedLetter(text: string): boolean {
  return (JSON.parse(text) as WireEvent).error?.type === 'collector.refused';
}

export interface ShipperOptions {
  urls: string[];
  token: string;
  timeoutMs: number;
  agent: WireBatch['agent'];
  /** CA to verify the collector's certificate; client certificate and key for mutual TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** While no collector answers, how often the agent says so (the first failure is told at once). */
const UNREACHABLE_REPORT_MS = 60_000;

export class Shipper {
  /** Round-robin start for each batch: several collectors share the load; a failure moves on. */
  private nextUrl = 0;
  private batches = 0;
  retries = 0;
  /** Failed attempts in a row to reach any collector, and since when: one warning, then a line a minute, not one per retry. */
  private unreachable = { count: 0, since: 0, lastWarned: 0 };
  private readonly stopSignal: AbortController = new AbortController();
  /** Keep-alive connections to the collectors, with our TLS settings. */
  private http: CollectorHttp;

  constructor(
    private opts: ShipperOptions,
    private readonly log: Logger,
  ) {
    this.http = new CollectorHttp(opts.tls);
  }

  stop(): void {
    this.stopSignal.abort();
    this.http.close();
  }

  /** New collector URLs / token / timeout (SIGHUP); batches in flight finish with the old ones. */
  update(opts: ShipperOptions): void {
    if (JSON.stringify(opts.tls) !== JSON.stringify(this.opts.tls)) {
      const old = this.http;
      this.http = new CollectorHttp(opts.tls);
      old.close();
    }
    this.opts = opts;
  }

  /** Events the collector refused, sent as dead letters. */
  refused = 0;

  /** A batch's request body, `{"agent":…,"events":[…]}` gzip-compressed, written event by event. */
  newBody(): BatchBody {
    return new BatchBody(`{"agent":${JSON.stringify(this.opts.agent)},"events":[`, ']}');
  }

  /** The request body for these event texts at once. */
  encode(events: readonly string[]): Promise<Buffer> {
    const body = this.newBody();
    for (const e of events) body.add(e);
    return body.finish();
  }

  /** Resolves with the collector's acknowledgement; rejects only when stopped. */
  async ship(events: readonly string[], redeliverySince?: number): Promise<WireAck> {
    return this.send(await this.encode(events), async () => events, redeliverySince);
  }

  /** Send an encoded batch (from the spool); on 413 it is decoded and split. */
  async shipBody(body: Buffer, redeliverySince?: number): Promise<WireAck> {
    return this.send(body, async () => (JSON.parse((await gunzipAsync(body)).toString('utf8')) as WireBatch).events.map((e) => JSON.stringify(e)), redeliverySince);
  }

  /** One event the collector refuses: send its dead letter instead. */
  private async refusedAlone(text: string, status: number, response: string, redeliverySince: number | undefined): Promise<WireAck> {
    this.refused++;
    const e = JSON.parse(text) as WireEvent;
    this.log.warn({ id: e.id, status, response }, 'collector refused one event; sending it to the dead-letter stream');
    return this.ship([JSON.stringify(deadLetterOf(e, 'collector.refused', `collector answered ${status}: ${response}`))], redeliverySince);
  }

  /**
   * `redeliverySince`: the batch may have been delivered before, first no earlier than then
   * (see REDELIVERY_HEADER). Every attempt after the first is a redelivery too, since this
   * one's start: an attempt that timed out or failed midway may have been indexed all the same.
   */
  private async send(body: Buffer, events: () => Promise<readonly string[]>, redeliverySince?: number): Promise<WireAck> {
    const firstAttempt = Date.now();
    const backoff = new Backoff({ initialMs: 250, maxMs: 30_000 });
    // One id per batch, kept across retries: the collector logs it too (X-Request-Id).
    const requestId = `${this.opts.agent.id}-${(this.batches++).toString(36)}`;
    let urlIndex = this.nextUrl++;
    for (;;) {
      if (this.stopSignal.signal.aborted) throw new Error('shipper stopped');
      const url = this.opts.urls[urlIndex % this.opts.urls.length];
      let waitMs: number | undefined;
      try {
        const res = await this.http.post(
          url + EVENTS_PATH,
          body,
          {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            authorization: `Bearer ${this.opts.token}`,
            'x-request-id': requestId,
            ...(redeliverySince !== undefined ? { [REDELIVERY_HEADER]: String(redeliverySince) } : {}),
          },
          AbortSignal.any([this.stopSignal.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        );
        if (res.status >= 200 && res.status < 300) {
          if (this.unreachable.count > 0) {
            this.log.info({ url, failed_attempts: this.unreachable.count, unreachable_s: Math.round((Date.now() - this.unreachable.since) / 1000) }, 'collector reachable again');
            this.unreachable = { count: 0, since: 0, lastWarned: 0 };
          }
          const ack = JSON.parse(res.text) as WireAck;
          if (ack.dead_lettered > 0) {
            this.log.warn({ request_id: requestId, dead_lettered: ack.dead_lettered, reasons: ack.errors }, 'collector sent events to the dead-letter stream');
          }
          return ack;
        }
        const text = res.text.slice(0, 300);
        if (REFUSED.has(res.status)) {
          const all = await events();
          if (all.length > 1) {
            const half = Math.ceil(all.length / 2);
            this.log.warn({ request_id: requestId, status: res.status, events: all.length, response: text }, 'collector refused the batch; splitting it to find the event it refuses');
            const a = await this.ship(all.slice(0, half), redeliverySince);
            const b = await this.ship(all.slice(half), redeliverySince);
            return { indexed: a.indexed + b.indexed, duplicates: a.duplicates + b.duplicates, dead_lettered: a.dead_lettered + b.dead_lettered, errors: [...a.errors, ...b.errors] };
          }
          if (all.length === 1 && !isRefusedLetter(all[0])) return this.refusedAlone(all[0], res.status, text, redeliverySince);
        }
        const retryAfter = Number(res.headers['retry-after']);
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = retryAfter * 1000;
        if (res.status === 429) {
          // The collector's rate limit (rate_limits.ingest): slow down, nothing is wrong.
          this.log.warn({ request_id: requestId, url, retry_after_s: retryAfter }, 'collector asks to slow down (429); will retry');
        } else {
          const hint = res.status === 401 || res.status === 403 ? ' (check collector.token and the agent ids and datasets the token allows)' : '';
          this.log.error({ request_id: requestId, url, status: res.status, response: text }, `collector rejected the batch${hint}; will retry`);
        }
      } catch (err) {
        if (this.stopSignal.signal.aborted) throw new Error('shipper stopped');
        const cause = (err as { cause?: Error }).cause?.message;
        const now = Date.now();
        const u = this.unreachable;
        if (u.count++ === 0) {
          u.since = now;
          u.lastWarned = now;
          this.log.warn({ request_id: requestId, url, err: (err as Error).message, cause }, 'collector unreachable; retrying (one line a minute while it lasts)');
        } else if (now - u.lastWarned >= UNREACHABLE_REPORT_MS) {
          u.lastWarned = now;
          this.log.warn({ url, err: (err as Error).message, cause, failed_attempts: u.count, unreachable_s: Math.round((now - u.since) / 1000) }, 'collector still unreachable; retrying');
        } else this.log.debug({ request_id: requestId, url, err: (err as Error).message, cause, failed_attempts: u.count }, 'collector unreachable; will retry');
      }
      this.retries++;
      redeliverySince = Math.min(redeliverySince ?? firstAttempt, firstAttempt);
      urlIndex++;
      await sleep(Math.max(waitMs ?? 0, backoff.next()), this.stopSignal.signal);
    }
  }
}
