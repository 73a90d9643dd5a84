// Sends batches to the collector: gzip-compressed JSON, bearer token, retried with
// jittered exponential backoff until acknowledged — a batch is never dropped. With several
// collector URLs it moves to the next one when one fails.
import { gzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Agent as HttpAgent, fetch } from 'undici';
import { Backoff, sleep, EVENTS_PATH, type WireAck, type WireBatch, type WireEvent, type Logger } from '@stacklens/common';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface ShipperOptions {
  urls: string[];
  token: string;
  timeoutMs: number;
  agent: WireBatch['agent'];
  /** CA to verify the collector's certificate; client certificate and key for mutual TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
}

export class Shipper {
  /** Round-robin start for each batch: several collectors share the load; a failure moves on. */
  private nextUrl = 0;
  private batches = 0;
  retries = 0;
  private readonly stopSignal: AbortController = new AbortController();
  /** Keep-alive connections to the collectors, with our TLS settings. */
  private dispatcher: HttpAgent;

  constructor(
    private opts: ShipperOptions,
    private readonly log: Logger,
  ) {
    this.dispatcher = new HttpAgent({ connect: { ...opts.tls } });
  }

  stop(): void {
    this.stopSignal.abort();
    void this.dispatcher.close().catch(() => undefined);
  }

  /** New collector URLs / token / timeout (SIGHUP); batches in flight finish with the old ones. */
  update(opts: ShipperOptions): void {
    if (JSON.stringify(opts.tls) !== JSON.stringify(this.opts.tls)) {
      const old = this.dispatcher;
      this.dispatcher = new HttpAgent({ connect: { ...opts.tls } });
      void old.close();
    }
    this.opts = opts;
  }

  /** The request body for a batch: gzip-compressed JSON. */
  encode(events: WireEvent[]): Promise<Buffer> {
    return gzipAsync(JSON.stringify({ agent: this.opts.agent, events } satisfies WireBatch), { level: 1 });
  }

  /** Resolves with the collector's acknowledgement; rejects only when stopped. */
  async ship(events: WireEvent[]): Promise<WireAck> {
    return this.send(await this.encode(events), async () => events);
  }

  /** Send an encoded batch (from the spool); on 413 it is decoded and split. */
  async shipBody(body: Buffer): Promise<WireAck> {
    return this.send(body, async () => (JSON.parse((await gunzipAsync(body)).toString('utf8')) as WireBatch).events);
  }

  private async send(body: Buffer, events: () => Promise<WireEvent[]>): Promise<WireAck> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 30_000 });
    // One id per batch, kept across retries: the collector logs it too (X-Request-Id).
    const requestId = `${this.opts.agent.id}-${(this.batches++).toString(36)}`;
    let urlIndex = this.nextUrl++;
    for (;;) {
      if (this.stopSignal.signal.aborted) throw new Error('shipper stopped');
      const url = this.opts.urls[urlIndex % this.opts.urls.length];
      let waitMs: number | undefined;
      try {
        const res = await fetch(url + EVENTS_PATH, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            authorization: `Bearer ${this.opts.token}`,
            'x-request-id': requestId,
          },
          body,
          signal: AbortSignal.any([this.stopSignal.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
          dispatcher: this.dispatcher,
        });
        if (res.ok) {
          const ack = (await res.json()) as WireAck;
          if (ack.dead_lettered > 0) {
            this.log.warn({ request_id: requestId, dead_lettered: ack.dead_lettered, reasons: ack.errors }, 'collector sent events to the dead-letter stream');
          }
          return ack;
        }
        const text = (await res.text()).slice(0, 300);
        const all = res.status === 413 ? await events() : [];
        if (all.length > 1) {
          const half = Math.ceil(all.length / 2);
          this.log.warn({ events: all.length }, 'collector says the batch is too large; splitting it');
          const a = await this.ship(all.slice(0, half));
          const b = await this.ship(all.slice(half));
          return { indexed: a.indexed + b.indexed, duplicates: a.duplicates + b.duplicates, dead_lettered: a.dead_lettered + b.dead_lettered, errors: [...a.errors, ...b.errors] };
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = retryAfter * 1000;
        const hint = res.status === 401 || res.status === 403 ? ' (check collector.token)' : '';
        this.log.error({ request_id: requestId, url, status: res.status, response: text }, `collector rejected the batch${hint}; will retry`);
      } catch (err) {
        if (this.stopSignal.signal.aborted) throw new Error('shipper stopped');
        const cause = (err as { cause?: Error }).cause?.message;
        this.log.warn({ request_id: requestId, url, err: (err as Error).message, cause }, 'collector unreachable; will retry');
      }
      this.retries++;
      urlIndex++;
      await sleep(Math.max(waitMs ?? 0, backoff.next()), this.stopSignal.signal);
    }
  }
}
