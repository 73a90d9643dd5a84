// The audit trail: every authentication failure, authorization refusal, admin change,
// incident action (API or chat) and integration test, as one ECS document in the
// logs-stacklens.audit-default data stream — who (the principal's name, never a token),
// what, which target, the result, from which address, with which request id.
//
// Recording never blocks nor fails the request it describes: records are queued and written
// in bulk in the background, each with its own id (`create`), so a retried write never
// doubles one. While Elasticsearch is away they wait in memory (up to MAX_QUEUED; beyond,
// the oldest are dropped and counted, and the collector log says so).
import { randomUUID } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { Request, Response } from 'express';
import { Backoff, DATA_STREAMS, type Logger } from '@stacklens/common';
import type { Principal } from './principals.js';

export const AUDIT_DATA_STREAM = DATA_STREAMS.audit;
const MAX_QUEUED = 10_000;
const BATCH = 500;
const FLUSH_EVERY_MS = 500;

/** `data`: data leaving in bulk (search exports). */
export type AuditCategory = 'authentication' | 'authorization' | 'configuration' | 'incident' | 'integration' | 'data';

/** Someone acting: an authenticated principal, or a chat user (platform, workspace and user id). */
export interface AuditActor {
  name: string;
  kind: 'api' | 'agent' | 'chat' | 'unknown';
  role?: string;
  teams?: string[];
  /** Chat users: their platform user id. */
  id?: string;
}

export interface AuditRecord {
  /** What was attempted, dotted: auth.token, incident.acknowledge, integration.update, rules.reload, … */
  action: string;
  category: AuditCategory;
  outcome: 'success' | 'failure';
  /** Who; absent when nobody could be identified (a missing or unknown token). */
  actor?: AuditActor;
  /** What it was done to: an incident id, an integration id, a silence id, a data stream. */
  target?: string;
  /** Why it failed or was refused (never holds a secret). */
  reason?: string;
  /** Where the request came in: api, ingest, slack, mattermost. */
  via: string;
  source?: string;
  requestId?: string;
  method?: string;
  path?: string;
}

export interface AuditQuery {
  from?: string;
  to?: string;
  action?: string[];
  outcome?: string[];
  actor?: string[];
  category?: string[];
  size: number;
  search_after?: string;
}

export interface AuditStats {
  written: number;
  dropped: number;
  queued: number;
}

/** The actor of an authenticated principal. */
export function actorOf(p: Principal): AuditActor {
  return p.kind === 'api' ? { name: p.name, kind: 'api', role: p.role, teams: p.teams } : { name: p.name, kind: 'agent' };
}

/** Request facts every record about a request carries: address, request id, method, path, and the principal when known. */
export function requestFacts(req: Request, res: Response): Pick<AuditRecord, 'source' | 'requestId' | 'method' | 'path' | 'actor'> {
  const principal = res.locals.principal as Principal | undefined;
  return {
    source: req.socket.remoteAddress ?? req.ip,
    requestId: res.locals.requestId as string | undefined,
    method: req.method,
    path: req.originalUrl.split('?')[0].slice(0, 512),
    actor: principal ? actorOf(principal) : undefined,
  };
}

export class AuditLog {
  readonly stats: AuditStats = { written: 0, dropped: 0, queued: 0 };
  private queue: Array<{ id: string; doc: Record<string, unknown> }> = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  private pausedUntil = 0;
  private warnedDrop = false;

  constructor(
    private readonly es: Client,
    private readonly log: Logger,
  ) {}

  /** Queue a record; written within about half a second while Elasticsearch answers. */
  record(r: AuditRecord): void {
    const doc = toDocument(r, new Date());
    this.queue.push({ id: randomUUID(), doc });
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.stats.dropped++;
      if (!this.warnedDrop) {
        this.warnedDrop = true;
        this.log.error({ queued: MAX_QUEUED }, 'audit records are being dropped: Elasticsearch has not taken them for a while');
      }
    }
    this.stats.queued = this.queue.length;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_EVERY_MS);
  }

  /** Write what is queued (one writer at a time). Resolves when the queue is empty or Elasticsearch refused. */
  flush(): Promise<void> {
    this.writing ??= this.write().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async write(): Promise<void> {
    while (this.queue.length > 0 && Date.now() >= this.pausedUntil) {
      const batch = this.queue.slice(0, BATCH);
      try {
        const res = await this.es.bulk({ operations: batch.flatMap((b) => [{ create: { _index: AUDIT_DATA_STREAM, _id: b.id } }, b.doc]) }, { requestTimeout: 10_000, maxRetries: 0 });
        const failed = new Set<string>();
        for (const item of res.items) {
          const op = item.create;
          // 409: written by an earlier try whose answer was lost.
          if (op?.error && op.status !== 409) failed.add(String(op._id));
        }
        this.queue = this.queue.filter((q) => !batch.includes(q) || failed.has(q.id));
        this.stats.written += batch.length - failed.size;
        if (failed.size > 0) throw new Error(`${failed.size} audit records refused`);
        this.backoff.reset();
        this.warnedDrop = false;
      } catch (err) {
        const wait = this.backoff.next();
        this.pausedUntil = Date.now() + wait;
        this.log.warn({ err: (err as Error).message, queued: this.queue.length, retry_in_ms: wait }, 'audit records not written yet; retrying');
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, wait);
        break;
      }
    }
    this.stats.queued = this.queue.length;
  }

  /** Newest first. */
  async search(q: AuditQuery): Promise<{ total: number; records: unknown[]; next?: string }> {
    const filter: unknown[] = [];
    if (q.from || q.to) filter.push({ range: { '@timestamp': { gte: q.from, lte: q.to } } });
    if (q.action) filter.push({ terms: { 'event.action': q.action } });
    if (q.outcome) filter.push({ terms: { 'event.outcome': q.outcome } });
    if (q.category) filter.push({ terms: { 'event.category': q.category } });
    if (q.actor) filter.push({ terms: { 'user.name': q.actor } });
    let after: unknown[] | undefined;
    if (q.search_after) {
      try {
        after = JSON.parse(Buffer.from(q.search_after, 'base64url').toString('utf8'));
        if (!Array.isArray(after) || after.length !== 2) throw new Error('bad');
      } catch {
        throw new BadAuditCursor('search_after: not a cursor this API gave');
      }
    }
    const res = await this.es.search({
      index: AUDIT_DATA_STREAM,
      ignore_unavailable: true,
      size: q.size,
      track_total_hits: true,
      query: { bool: { filter } } as never,
      sort: [{ '@timestamp': 'desc' }, { 'stacklens.audit.seq': { order: 'desc', unmapped_type: 'keyword' } }],
      search_after: after as never,
    });
    const hits = res.hits.hits;
    const last = hits[hits.length - 1];
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return {
      total,
      records: hits.map((h) => h._source),
      next: hits.length === q.size && last?.sort ? Buffer.from(JSON.stringify(last.sort)).toString('base64url') : undefined,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pausedUntil = 0;
    await this.flush().catch(() => undefined);
  }
}

export class BadAuditCursor extends Error {}

let seq = 0;

function toDocument(r: AuditRecord, at: Date): Record<string, unknown> {
  const who = r.actor;
  const ip = r.source?.replace(/^::ffff:/, '');
  const verb = `${r.outcome === 'success' ? '' : 'refused: '}${r.action}`;
  return {
    '@timestamp': at.toISOString(),
    message: `${who ? who.name : 'unknown'} ${verb}${r.target ? ` ${r.target}` : ''}${r.reason ? ` (${r.reason})` : ''}`.slice(0, 2000),
    event: {
      kind: 'event',
      dataset: 'stacklens.audit',
      action: r.action,
      category: r.category,
      outcome: r.outcome,
      reason: r.reason?.slice(0, 1000),
    },
    user: who ? { name: who.name, id: who.id, roles: who.role ? [who.role] : undefined } : undefined,
    source: ip ? { ip, address: ip } : undefined,
    http: r.requestId || r.method ? { request: { id: r.requestId, method: r.method } } : undefined,
    url: r.path ? { path: r.path } : undefined,
    stacklens: { audit: { principal_kind: who?.kind ?? 'unknown', target: r.target, via: r.via, teams: who?.teams, seq: String(seq++).padStart(12, '0') } },
    data_stream: { type: 'logs', dataset: 'stacklens.audit', namespace: 'default' },
  };
}
