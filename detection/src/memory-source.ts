// Answers rule queries from events held in memory: the offline replay of
// `stacklens rules test`, where there is no Elasticsearch. Keeps per rule only the events
// its horizon can still see.
import { fieldValue, fieldValues, termEquals } from './fields.js';
import { TEMPLATE_FIELD, type GroupKey, type GroupQuery, type GroupStats, type SourceRule, type StatsSource } from './stats.js';
import { TemplateCatalog } from './template-catalog.js';
import { templateSource } from './templates/index.js';

interface Held {
  at: number;
  doc: Record<string, unknown>;
  template: string;
}

export class MemorySource implements StatsSource {
  private readonly held = new Map<string, Held[]>();
  /** For events offered without a template (the collector sets one at ingest). */
  private readonly templates = new TemplateCatalog(undefined);

  /** Offer an event; kept if the rule's filter matches. Events must come in time order. */
  add(rule: SourceRule, at: number, doc: Record<string, unknown>): boolean {
    if (rule.filter.test(doc) !== true) return false;
    let list = this.held.get(rule.spec.name);
    if (!list) this.held.set(rule.spec.name, (list = []));
    const template = (fieldValue(doc, TEMPLATE_FIELD) as string | undefined) ?? this.templates.assignNow(rule.spec.name, templateSource(doc)).id;
    // Logs are nearly sorted: insert from the end.
    let i = list.length;
    while (i > 0 && list[i - 1].at > at) i--;
    list.splice(i, 0, { at, doc, template });
    return true;
  }

  prune(rule: SourceRule, now: number): void {
    const list = this.held.get(rule.spec.name);
    if (!list) return;
    const keepFrom = now - rule.horizonMs;
    let drop = 0;
    while (drop < list.length && list[drop].at < keepFrom) drop++;
    if (drop > 0) list.splice(0, drop);
  }

  async groups(rule: SourceRule, q: GroupQuery): Promise<GroupStats[]> {
    const groups = new Map<string, { stats: GroupStats; values: Set<string>; numbers: number[]; docs: Held[] }>();
    const wanted = q.keys && new Set(q.keys.map((k) => JSON.stringify(q.groupBy.map((f) => k[f] ?? null))));
    for (const e of this.held.get(rule.spec.name) ?? []) {
      if (e.at < q.from || e.at >= q.to) continue;
      const key: GroupKey = {};
      for (const f of q.groupBy) key[f] = scalar(fieldValue(e.doc, f));
      if (wanted && !wanted.has(JSON.stringify(q.groupBy.map((f) => key[f])))) continue;
      const id = JSON.stringify([key, q.byTemplate ? e.template : '']);
      let g = groups.get(id);
      if (!g) {
        g = { stats: { key, template: q.byTemplate ? e.template : undefined, count: 0, first: e.at, last: e.at, counts: {}, samples: [] }, values: new Set(), numbers: [], docs: [] };
        for (const name of Object.keys(q.counts ?? {})) g.stats.counts[name] = 0;
        groups.set(id, g);
      }
      const s = g.stats;
      s.count++;
      s.first = Math.min(s.first, e.at);
      s.last = Math.max(s.last, e.at);
      for (const [name, c] of Object.entries(q.counts ?? {})) {
        if (e.at >= c.from && e.at < c.to && (!c.filter || c.filter.test(e.doc) === true)) s.counts[name]++;
      }
      if (q.cardinality) for (const v of fieldValues(e.doc, q.cardinality)) g.values.add(String(v));
      if (q.metric) for (const v of fieldValues(e.doc, q.metric.field)) if (typeof v === 'number') g.numbers.push(v);
      g.docs.push(e);
    }
    const out: GroupStats[] = [];
    for (const g of groups.values()) {
      const s = g.stats;
      if (q.cardinality) s.cardinality = g.values.size;
      if (q.metric) s.metric = metric(g.numbers, q.metric.op, q.metric.percentile);
      const newest = [...g.docs].sort((a, b) => b.at - a.at);
      if (q.samples) s.samples = newest.slice(0, q.samples).map((e) => e.doc);
      if (q.lastValues) {
        const field = q.lastValues.field;
        s.lastValues = newest
          .filter((e) => fieldValues(e.doc, field).length > 0)
          .slice(0, q.lastValues.n)
          .map((e) => ({ value: fieldValue(e.doc, field), at: e.at }));
      }
      out.push(s);
    }
    return out;
  }

  async samples(rule: SourceRule, key: GroupKey, template: string | undefined, from: number, to: number, n: number): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const list = this.held.get(rule.spec.name) ?? [];
    for (let i = list.length - 1; i >= 0 && out.length < n; i--) {
      const e = list[i];
      if (e.at >= from && e.at < to && inGroup(e, key, template)) out.push(e.doc);
    }
    return out;
  }

  async countSince(rule: SourceRule, key: GroupKey, template: string | undefined, after: number, to: number): Promise<{ count: number; last: number }> {
    let count = 0;
    let last = after;
    for (const e of this.held.get(rule.spec.name) ?? []) {
      if (e.at <= after || e.at > to) continue;
      if (!inGroup(e, key, template)) continue;
      count++;
      last = Math.max(last, e.at);
    }
    return { count, last };
  }
}

function inGroup(e: Held, key: GroupKey, template: string | undefined): boolean {
  if (template !== undefined && e.template !== template) return false;
  return Object.entries(key).every(([f, v]) => (v === null ? fieldValues(e.doc, f).length === 0 : fieldValues(e.doc, f).some((x) => termEquals(x, v))));
}

function scalar(v: unknown): string | number | boolean | null {
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null) return null;
  return typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
}

function metric(values: number[], op: string, percentile = 50): number | null {
  if (values.length === 0) return null;
  switch (op) {
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    default: {
      // Linear interpolation between closest ranks (what Elasticsearch's t-digest approximates).
      const sorted = [...values].sort((a, b) => a - b);
      const rank = (percentile / 100) * (sorted.length - 1);
      const lo = Math.floor(rank);
      const hi = Math.ceil(rank);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
  }
}
