// The live tail (GET /api/tail, a WebSocket): events as they are indexed and incident
// changes, each client with its own filter (tail-filter.ts).
//
// Where events come from:
//   • indexed by this collector — handed over by the indexer the moment Elasticsearch
//     accepted them (publish), matched in memory: shown within milliseconds;
//   • indexed by any other collector — each client's query is sent to Elasticsearch once a
//     second over the last LOOKBACK_MS of event.ingested (ids only; the unseen ones are then
//     fetched with mget), so a client on any collector sees what every collector indexed,
//     within about a second plus Elasticsearch's refresh (1 s). Events seen both ways are
//     sent once (ids remembered for the lookback).
// Incident changes come from stacklens-incidents (updated_at), polled once a second while a
// client asks for them; a team-scoped token sees its teams' incidents only.
//
// Backpressure: ingest never waits for a client. A client whose socket holds more than
// MAX_BUFFERED_BYTES unsent is skipped — its events are counted, not queued — and told
// {"type":"dropped","dropped":n} once it has caught up. Memory per client is bounded by that
// buffer and its remembered ids.
import type { Client } from '@elastic/elasticsearch';
import type { WebSocket } from 'ws';
import { INDICES, type Logger } from '@stacklens/common';
import type { Doc } from '../indexer.js';
import { BadSubscription, parseSubscription, type TailFilter } from './tail-filter.js';
import { HIT_MESSAGE_CHARS } from '../search.js';
import type { ApiPrincipal } from '../security/principals.js';
import { seesTeam } from '../security/principals.js';

export const MAX_TAIL_CLIENTS = 64;
const MAX_BUFFERED_BYTES = 1024 * 1024;
const POLL_MS = 1000;
/** How far back each poll looks at event.ingested: a batch becomes searchable up to this long after the collector took it. */
const LOOKBACK_MS = 10_000;
const POLL_SIZE = 1000;
/** Pages per client per poll: up to 20,000 events a second from other collectors. */
const MAX_POLL_PAGES = 20;
/** Remembered ids per client (sent recently): beyond this the oldest are forgotten. */
const MAX_REMEMBERED = 50_000;
const MAX_SUBSCRIPTION_BYTES = 16 * 1024;
/** Ping every this many rounds (30 s); no pong by the next ping closes the connection. */
const PING_EVERY = 30;

export interface TailMetrics {
  clients(n: number): void;
  dropped(n: number): void;
  sent(kind: 'event' | 'incident', n: number): void;
}

export interface TailHubDeps {
  es: Client;
  log: Logger;
  metrics?: TailMetrics;
  /** The team filter (for Elasticsearch) and datasets (for memory) of a team-scoped principal. */
  scope: (teams: string[]) => Promise<{ filter: Record<string, unknown>; datasets: string[] }>;
}

type IncidentChange = 'opened' | 'updated' | 'acknowledged' | 'resolved';

class TailClient {
  filter?: TailFilter;
  dropped = 0;
  /** id → when it was sent (ms): not sent twice within the lookback. */
  private readonly sentIds = new Map<string, number>();
  private readonly incidentsSeen = new Map<string, { updated: string; status: string }>();
  private polling = false;
  private closed = false;
  private eventsFrom = Date.now();
  private incidentsFrom = new Date().toISOString();

  constructor(
    readonly ws: WebSocket,
    readonly principal: ApiPrincipal,
    private readonly hub: TailHub,
  ) {}

  close(): void {
    this.closed = true;
  }

  /** Answered the last ping (a half-open connection stops answering). */
  alive = true;

  /** Sends unless the client is behind; counts what it could not take. */
  offer(payload: string): boolean {
    if (this.closed) return false;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      this.hub.countDropped(1);
      return false;
    }
    this.flushDropped();
    this.ws.send(payload);
    return true;
  }

  /** Tells a client that has caught up how many messages it missed. */
  flushDropped(): void {
    if (this.dropped === 0 || this.closed || this.ws.bufferedAmount > MAX_BUFFERED_BYTES / 2) return;
    this.ws.send(JSON.stringify({ type: 'dropped', dropped: this.dropped }));
    this.dropped = 0;
  }

  /** An event by id: false if this client already had it. */
  firstTime(id: string, now: number): boolean {
    if (this.sentIds.has(id)) return false;
    this.sentIds.set(id, now);
    if (this.sentIds.size > MAX_REMEMBERED) this.sentIds.delete(this.sentIds.keys().next().value as string);
    return true;
  }

  private forgetOld(now: number): void {
    for (const [id, at] of this.sentIds) {
      if (now - at <= LOOKBACK_MS + POLL_MS) break;
      this.sentIds.delete(id);
    }
  }

  /** One round of reading Elasticsearch: events by other collectors, incident changes. */
  async poll(): Promise<void> {
    if (this.polling || this.closed || !this.filter) return;
    this.polling = true;
    const filter = this.filter;
    try {
      const now = Date.now();
      this.forgetOld(now);
      this.flushDropped();
      if (filter.spec.events) await this.pollEvents(filter, now);
      if (filter.spec.incidents) await this.pollIncidents();
    } catch (err) {
      this.hub.log.debug({ err: (err as Error).message }, 'live tail poll failed; next round retries');
    } finally {
      this.polling = false;
    }
  }

  private async pollEvents(filter: TailFilter, now: number): Promise<void> {
    const since = new Date(Math.max(this.eventsFrom, now - LOOKBACK_MS)).toISOString();
    // Every event of the window, a page at a time (ids only); event.id breaks ties within a batch
    // (one batch shares its event.ingested). Up to MAX_POLL_PAGES: beyond, the client is told.
    let after: unknown[] | undefined;
    let sent = 0;
    for (let page = 0; page < MAX_POLL_PAGES && !this.closed; page++) {
      const res: any = await this.hub.es.search({
        index: filter.indices,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: POLL_SIZE,
        _source: false,
        track_total_hits: false,
        query: { bool: { filter: [filter.esQuery, { range: { 'event.ingested': { gte: since } } }] } },
        sort: [{ 'event.ingested': { order: 'asc', unmapped_type: 'date' } }, { 'event.id': { order: 'asc', unmapped_type: 'keyword' } }],
        ...(after ? { search_after: after } : {}),
      } as never);
      const hits = res.hits.hits as any[];
      const unseen = hits.filter((h) => !this.sentIds.has(h._id));
      if (unseen.length) {
        const docs: any = await this.hub.es.mget({ docs: unseen.map((h) => ({ _index: h._index, _id: h._id })) });
        for (const d of docs.docs as any[]) {
          if (!d.found || !this.firstTime(d._id, now)) continue;
          if (this.offer(eventPayload(d._id, d._index, d._source))) sent++;
        }
      }
      if (hits.length < POLL_SIZE) break;
      after = hits[hits.length - 1].sort;
      if (page === MAX_POLL_PAGES - 1) {
        // More matched in the window than a client can be sent each second: say so.
        this.dropped++;
        this.hub.countDropped(1);
      }
    }
    this.hub.metrics?.sent('event', sent);
  }

  private async pollIncidents(): Promise<void> {
    const since = this.incidentsFrom;
    const res: any = await this.hub.es.search({
      index: INDICES.incidents,
      ignore_unavailable: true,
      size: 200,
      track_total_hits: false,
      query: { bool: { filter: [{ range: { updated_at: { gte: since } } }, ...(this.principal.teams ? [{ terms: { 'labels.team': this.principal.teams } }] : [])] } },
      sort: [{ updated_at: { order: 'asc', unmapped_type: 'date' } }],
    } as never);
    let sent = 0;
    for (const h of res.hits.hits as any[]) {
      const inc = h._source;
      if (!seesTeam(this.principal, inc.labels?.team)) continue;
      const before = this.incidentsSeen.get(inc.id);
      if (before?.updated === inc.updated_at) continue;
      const change: IncidentChange = !before && inc.detected_at >= since ? 'opened' : before?.status === inc.status ? 'updated' : inc.status === 'acknowledged' ? 'acknowledged' : inc.status === 'resolved' ? 'resolved' : before ? 'opened' : 'updated';
      this.incidentsSeen.set(inc.id, { updated: inc.updated_at, status: inc.status });
      if (this.incidentsSeen.size > 10_000) this.incidentsSeen.delete(this.incidentsSeen.keys().next().value as string);
      if (inc.updated_at > this.incidentsFrom) this.incidentsFrom = inc.updated_at;
      if (this.offer(JSON.stringify({ type: 'incident', change, incident: incidentView(inc) }))) sent++;
    }
    this.hub.metrics?.sent('incident', sent);
  }

  async subscribe(text: string): Promise<void> {
    if (text.length > MAX_SUBSCRIPTION_BYTES) throw new BadSubscription(`the subscription is larger than ${MAX_SUBSCRIPTION_BYTES} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new BadSubscription('the subscription is not JSON');
    }
    const scope = this.principal.teams ? await this.hub.scopeOf(this.principal.teams) : undefined;
    this.filter = parseSubscription(raw, scope);
    this.eventsFrom = Date.now();
    this.ws.send(JSON.stringify({ type: 'subscribed', filter: this.filter.spec }));
  }
}

/** What a client gets of an event: its document, the message capped as search hits are. */
function eventPayload(id: string, index: string, source: Record<string, any>): string {
  let doc = source;
  if (typeof source.message === 'string' && source.message.length > HIT_MESSAGE_CHARS) {
    doc = { ...source, message: source.message.slice(0, HIT_MESSAGE_CHARS), message_truncated: true, message_length: source.message.length };
  }
  return JSON.stringify({ type: 'event', id, index, event: doc });
}

function incidentView(i: any): Record<string, unknown> {
  const { id, rule, severity, status, summary, group_key, count, first_seen, last_seen, detected_at, updated_at, acknowledged_by, resolved_by, labels } = i;
  return { id, rule, severity, status, summary, group_key, count, first_seen, last_seen, detected_at, updated_at, acknowledged_by, resolved_by, team: labels?.team, ticket: i.ticket?.key };
}

export class TailHub {
  private readonly clients = new Set<TailClient>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: TailHubDeps) {}

  get es(): Client {
    return this.deps.es;
  }
  get log(): Logger {
    return this.deps.log;
  }
  get metrics(): TailMetrics | undefined {
    return this.deps.metrics;
  }
  get size(): number {
    return this.clients.size;
  }

  scopeOf(teams: string[]) {
    return this.deps.scope(teams);
  }

  countDropped(n: number): void {
    this.deps.metrics?.dropped(n);
  }

  /** A new WebSocket client: it sends its subscription (JSON) first, and may send another at any time. */
  add(ws: WebSocket, principal: ApiPrincipal): void {
    const client = new TailClient(ws, principal, this);
    this.clients.add(client);
    this.deps.metrics?.clients(this.clients.size);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void ws.send(JSON.stringify({ type: 'error', error: 'send the subscription as a JSON text message' }));
      client.subscribe(String(data)).then(
        () => void client.poll(),
        (err) => ws.send(JSON.stringify({ type: 'error', error: err instanceof BadSubscription ? err.message : 'could not subscribe; try again' })),
      );
    });
    ws.on('close', () => {
      client.close();
      this.clients.delete(client);
      this.deps.metrics?.clients(this.clients.size);
      if (this.clients.size === 0) this.stopTimer();
    });
    ws.on('error', () => ws.terminate());
    ws.on('pong', () => {
      client.alive = true;
    });
    this.timer ??= setInterval(() => this.round(), POLL_MS);
    this.timer.unref();
  }

  private rounds = 0;
  /** Every POLL_MS: each client reads Elasticsearch; every PING_EVERY rounds, clients that did not answer the last ping are dropped. */
  private round(): void {
    const ping = ++this.rounds % PING_EVERY === 0;
    for (const c of this.clients) {
      void c.poll();
      if (!ping) continue;
      if (!c.alive) c.ws.terminate();
      else {
        c.alive = false;
        c.ws.ping();
      }
    }
  }

  /** Documents this collector indexed just now (the indexer's hook): matched in memory, sent at once. */
  publish(docs: readonly Doc[]): void {
    if (this.clients.size === 0) return;
    const now = Date.now();
    for (const client of this.clients) {
      const f = client.filter;
      if (!f?.spec.events) continue;
      let sent = 0;
      for (const d of docs) {
        if (!f.matches(d.index, d.body) || !client.firstTime(d.id, now)) continue;
        if (client.offer(eventPayload(d.id, d.index, d.body as Record<string, any>))) sent++;
      }
      if (sent) this.deps.metrics?.sent('event', sent);
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes every client (the collector is stopping). */
  stop(): void {
    this.stopTimer();
    for (const c of this.clients) c.ws.close(1001, 'collector stopping');
  }
}
