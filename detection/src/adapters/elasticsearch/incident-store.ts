// Incidents in Elasticsearch (stacklens-incidents), one document per fingerprint, id derived
// from it. Every write is conditional: create when new (409 → someone else created it: read
// and merge), else index with if_seq_no/if_primary_term (409 → re-read and re-apply). So
// several collectors open each incident once and never lose an update.
import type { Client } from '@elastic/elasticsearch';
import { INCIDENTS_INDEX, type Incident } from '../../incident.js';
import type { IncidentStore } from '../../evaluate.js';
import { isNotFound, isConflict, isIndexMissing } from '@stacklens/elasticsearch';

const MAX_ATTEMPTS = 20;

export class ConflictError extends Error {}

/** A pagination cursor this API did not hand out. */
export class BadCursorError extends Error {}

export interface IncidentQuery {
  status?: string[];
  severity?: string[];
  rule?: string[];
  group_key?: string;
  from?: string;
  to?: string;
  size: number;
  /** Cursor from a previous page (search_after on detected_at, id). */
  after?: string;
  /** Only incidents of these teams (labels.team): a team-scoped caller's view. */
  teams?: string[];
}

export class ElasticsearchIncidentStore implements IncidentStore {
  constructor(private readonly client: Client) {}

  async get(id: string): Promise<{ incident: Incident; seqNo: number; primaryTerm: number } | undefined> {
    try {
      const res: any = await this.client.get({ index: INCIDENTS_INDEX, id });
      return { incident: res._source as Incident, seqNo: res._seq_no, primaryTerm: res._primary_term };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async getMany(ids: string[]): Promise<Map<string, Incident>> {
    const out = new Map<string, Incident>();
    if (ids.length === 0) return out;
    try {
      const res: any = await this.client.mget({ index: INCIDENTS_INDEX, ids: [...new Set(ids)] });
      for (const d of res.docs) if (d.found) out.set(d._id, stripTimestamp(d._source));
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    return out;
  }

  async update(id: string, change: (current: Incident | undefined) => Promise<Incident | undefined>, opts: { visible?: boolean } = {}): Promise<Incident | undefined> {
    const refresh = opts.visible ? ('wait_for' as const) : undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.get(id);
      const next = await change(current?.incident);
      if (!next) return current?.incident;
      const document = { '@timestamp': next.detected_at, ...next };
      try {
        if (current) {
          await this.client.index({ index: INCIDENTS_INDEX, id, document, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm, refresh });
        } else {
          await this.client.create({ index: INCIDENTS_INDEX, id, document, refresh });
        }
        return next;
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Another collector wrote it first: read its version and apply the change again.
      }
    }
    throw new ConflictError(`incident ${id}: gave up after ${MAX_ATTEMPTS} concurrent updates`);
  }

  async search(q: IncidentQuery): Promise<{ total: number; incidents: Incident[]; next?: string }> {
    const filter: unknown[] = [];
    if (q.status?.length) filter.push({ terms: { status: q.status } });
    if (q.severity?.length) filter.push({ terms: { severity: q.severity } });
    if (q.rule?.length) filter.push({ terms: { rule: q.rule } });
    if (q.group_key) filter.push({ term: { group_key: q.group_key } });
    if (q.teams) filter.push({ terms: { 'labels.team': q.teams } });
    if (q.from || q.to) filter.push({ range: { last_seen: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lte: q.to } : {}) } } });
    let searchAfter: unknown[] | undefined;
    if (q.after) {
      try {
        searchAfter = JSON.parse(Buffer.from(q.after, 'base64url').toString('utf8'));
      } catch {
        // handled below
      }
      // Exactly the shape this API hands out ([detected_at millis, id]): anything else would reach Elasticsearch.
      if (!Array.isArray(searchAfter) || searchAfter.length !== 2 || !Number.isSafeInteger(searchAfter[0]) || typeof searchAfter[1] !== 'string') {
        throw new BadCursorError('after: not a cursor returned by this API');
      }
    }
    try {
      const res: any = await this.client.search({
        index: INCIDENTS_INDEX,
        size: q.size,
        track_total_hits: true,
        query: { bool: { filter } },
        sort: [{ detected_at: 'desc' }, { id: 'asc' }],
        ...(searchAfter ? { search_after: searchAfter } : {}),
      } as never);
      const hits = res.hits.hits as any[];
      const incidents = hits.map((h) => stripTimestamp(h._source));
      const next = hits.length === q.size ? Buffer.from(JSON.stringify(hits[hits.length - 1].sort)).toString('base64url') : undefined;
      return { total: res.hits.total.value, incidents, next };
    } catch (err) {
      if (isIndexMissing(err)) return { total: 0, incidents: [] };
      throw err;
    }
  }

  /** Open or acknowledged incidents whose quiet period has passed. */
  async dueForAutoResolve(now: number): Promise<string[]> {
    try {
      const res: any = await this.client.search({
        index: INCIDENTS_INDEX,
        size: 500,
        _source: false,
        query: { bool: { filter: [{ terms: { status: ['open', 'acknowledged'] } }, { range: { auto_resolve_at: { lte: now, format: 'epoch_millis' } } }] } },
      } as never);
      return res.hits.hits.map((h: any) => h._id);
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }

  /** Incidents of these rules that fired at or before `firedBefore` (epoch ms) whose alert and triage are not queued yet (actions_pending). */
  async actionsOwed(firedBefore: number, rules: string[], size = 100): Promise<Incident[]> {
    if (rules.length === 0) return [];
    try {
      const res: any = await this.client.search({
        index: INCIDENTS_INDEX,
        size,
        query: { bool: { filter: [{ term: { actions_pending: true } }, { terms: { rule: rules } }, { range: { last_fired_at: { lte: firedBefore, format: 'epoch_millis' } } }] } },
        sort: [{ last_fired_at: 'asc' }],
      } as never);
      return res.hits.hits.map((h: any) => stripTimestamp(h._source));
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }
}

function stripTimestamp(doc: Record<string, unknown>): Incident {
  const { '@timestamp': _ts, ...rest } = doc;
  return rest as unknown as Incident;
}
