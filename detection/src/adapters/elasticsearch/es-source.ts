// Answers rule queries with Elasticsearch aggregations: a composite aggregation over the
// group_by fields (and the message template), with count, cardinality, metric and top_hits
// sub-aggregations. Fleet-wide: it sees every collector's events.
import type { Client } from '@elastic/elasticsearch';
import { fieldValue } from '../../fields.js';
import { TEMPLATE_FIELD, type GroupKey, type GroupQuery, type GroupStats, type SourceRule, type StatsSource } from '../../stats.js';

/**
 * Upper bound of groups one listing reads (composite pages of 500). Rule types that must not
 * miss a group beyond it ask for the groups they need by name (`keys`): new_term lists the
 * terms of its window, then looks only those up in the lookback.
 */
const MAX_GROUPS = 5000;

const range = (from: number, to: number, upper: 'lt' | 'lte' = 'lt') => ({ range: { '@timestamp': { gte: from, [upper]: to, format: 'epoch_millis' } } });

export class ElasticsearchSource implements StatsSource {
  constructor(private readonly client: Client) {}

  async groups(rule: SourceRule, q: GroupQuery): Promise<GroupStats[]> {
    if (!q.keys) return this.search(rule, q, undefined, MAX_GROUPS);
    // Named groups: in batches, each an exact filter, read to the end (a batch holds at most
    // its own groups, times the templates when grouped by template).
    const out: GroupStats[] = [];
    const single = q.groupBy.length === 1 && q.keys.every((k) => k[q.groupBy[0]] !== null);
    const batch = single ? 10_000 : 200;
    for (let i = 0; i < q.keys.length; i += batch) out.push(...(await this.search(rule, q, keysClause(q.keys.slice(i, i + batch), q.groupBy, single), Infinity)));
    const wanted = new Set(q.keys.map((k) => keyId(k, q.groupBy)));
    return out.filter((g) => wanted.has(keyId(g.key, q.groupBy)));
  }

  private async search(rule: SourceRule, q: GroupQuery, keys: unknown, maxGroups: number): Promise<GroupStats[]> {
    const sub = subAggregations(q);
    const query = { bool: { filter: [range(q.from, q.to), ...rule.filter.clauses, ...(q.lastValues ? [{ exists: { field: q.lastValues.field } }] : []), ...(keys ? [keys] : [])] } };
    const fields = [...q.groupBy, ...(q.byTemplate ? [TEMPLATE_FIELD] : [])];
    const search = (aggs: Record<string, unknown>, size = 0) =>
      this.client.search({ index: rule.index, size, track_total_hits: true, query, aggs, ignore_unavailable: true, allow_no_indices: true } as never) as Promise<any>;

    if (fields.length === 0) {
      // One group: the whole range.
      const res = await search(sub);
      if (!res.aggregations) return []; // no index matches (yet)
      const total = res.hits.total.value as number;
      if (total === 0) return [];
      return [toStats({}, undefined, total, res.aggregations, q)];
    }
    const out: GroupStats[] = [];
    let after: Record<string, unknown> | undefined;
    do {
      const composite = {
        size: 500,
        sources: fields.map((f, i) => ({ [`k${i}`]: { terms: { field: f, missing_bucket: true } } })),
        ...(after ? { after } : {}),
      };
      const res = await search({ groups: { composite, aggs: sub } });
      if (!res.aggregations) return out; // no index matches (yet)
      const agg = res.aggregations.groups;
      for (const b of agg.buckets) {
        const key: GroupKey = {};
        q.groupBy.forEach((f, i) => (key[f] = b.key[`k${i}`] ?? null));
        const template = q.byTemplate ? (b.key[`k${q.groupBy.length}`] ?? '') : undefined;
        out.push(toStats(key, template, b.doc_count, b, q));
      }
      after = agg.buckets.length > 0 ? agg.after_key : undefined;
    } while (after && out.length < maxGroups);
    return out;
  }

  async samples(rule: SourceRule, key: GroupKey, template: string | undefined, from: number, to: number, n: number): Promise<Record<string, unknown>[]> {
    const res: any = await this.client.search({
      index: rule.index,
      size: n,
      sort: [{ '@timestamp': 'desc' }],
      query: groupQuery(rule, key, template, range(from, to)),
      ignore_unavailable: true,
      allow_no_indices: true,
    } as never);
    return res.hits.hits.map((h: any) => h._source);
  }

  async countSince(rule: SourceRule, key: GroupKey, template: string | undefined, after: number, to: number): Promise<{ count: number; last: number }> {
    const res: any = await this.client.search({
      index: rule.index,
      size: 0,
      track_total_hits: true,
      query: groupQuery(rule, key, template, { range: { '@timestamp': { gt: after, lte: to, format: 'epoch_millis' } } }),
      aggs: { last: { max: { field: '@timestamp' } } },
      ignore_unavailable: true,
      allow_no_indices: true,
    } as never);
    return { count: res.hits.total.value, last: res.aggregations?.last.value ?? after };
  }
}

const keyId = (key: GroupKey, groupBy: string[]) => JSON.stringify(groupBy.map((f) => key[f] ?? null));

/** A query for exactly these groups: one terms query on a single field, else one clause per group. */
function keysClause(keys: GroupKey[], groupBy: string[], single: boolean): unknown {
  if (single) return { terms: { [groupBy[0]]: keys.map((k) => k[groupBy[0]]) } };
  const should = keys.map((k) => ({
    bool: {
      filter: groupBy.filter((f) => k[f] !== null).map((f) => ({ term: { [f]: k[f] } })),
      must_not: groupBy.filter((f) => k[f] === null).map((f) => ({ exists: { field: f } })),
    },
  }));
  return { bool: { should, minimum_should_match: 1 } };
}

/** The rule's filter, narrowed to one group (and template) within a time range. */
function groupQuery(rule: SourceRule, key: GroupKey, template: string | undefined, timeRange: unknown): unknown {
  const filter: unknown[] = [timeRange, ...rule.filter.clauses];
  const mustNot: unknown[] = [];
  for (const [field, value] of Object.entries(key)) {
    if (value === null) mustNot.push({ exists: { field } });
    else filter.push({ term: { [field]: value } });
  }
  if (template !== undefined) filter.push({ term: { [TEMPLATE_FIELD]: template } });
  return { bool: { filter, must_not: mustNot } };
}

function subAggregations(q: GroupQuery): Record<string, unknown> {
  const aggs: Record<string, unknown> = {
    first: { min: { field: '@timestamp' } },
    last: { max: { field: '@timestamp' } },
  };
  for (const [name, c] of Object.entries(q.counts ?? {})) {
    aggs[`count_${name}`] = { filter: { bool: { filter: [range(c.from, c.to), ...(c.filter?.clauses ?? [])] } } };
  }
  if (q.cardinality) aggs.distinct = { cardinality: { field: q.cardinality, precision_threshold: 3000 } };
  if (q.metric) {
    const { field, op, percentile } = q.metric;
    aggs.metric = op === 'percentile' ? { percentiles: { field, percents: [percentile], keyed: false } } : { [op]: { field } };
  }
  if (q.samples) aggs.samples = { top_hits: { size: q.samples, sort: [{ '@timestamp': 'desc' }] } };
  if (q.lastValues) aggs.last_values = { top_hits: { size: q.lastValues.n, sort: [{ '@timestamp': 'desc' }], _source: [q.lastValues.field, '@timestamp'] } };
  return aggs;
}

function toStats(key: GroupKey, template: string | undefined, count: number, aggs: any, q: GroupQuery): GroupStats {
  const s: GroupStats = { key, template, count, first: aggs.first.value, last: aggs.last.value, counts: {}, samples: [] };
  for (const name of Object.keys(q.counts ?? {})) s.counts[name] = aggs[`count_${name}`].doc_count;
  if (q.cardinality) s.cardinality = aggs.distinct.value;
  if (q.metric) s.metric = q.metric.op === 'percentile' ? (aggs.metric.values[0]?.value ?? null) : aggs.metric.value;
  if (q.samples) s.samples = aggs.samples.hits.hits.map((h: any) => h._source);
  if (q.lastValues) {
    const field = q.lastValues.field;
    s.lastValues = aggs.last_values.hits.hits.map((h: any) => ({ value: fieldValue(h._source, field), at: Date.parse(h._source['@timestamp']) }));
  }
  return s;
}
