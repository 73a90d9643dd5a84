// Answers rule queries with Elasticsearch aggregations: a composite aggregation over the
// group_by fields (and the message template), with count, cardinality, metric and top_hits
// sub-aggregations. Fleet-wide: it sees every collector's events.
import type { Client } from '@elastic/elasticsearch';
import { fieldValue } from './fields.js';
import type { Rule } from './rule.js';
import { TEMPLATE_FIELD, type GroupKey, type GroupQuery, type GroupStats, type StatsSource } from './stats.js';

/** Upper bound of groups one evaluation reads (composite pages of 500). */
const MAX_GROUPS = 5000;

const range = (from: number, to: number, upper: 'lt' | 'lte' = 'lt') => ({ range: { '@timestamp': { gte: from, [upper]: to, format: 'epoch_millis' } } });

export class ElasticsearchSource implements StatsSource {
  constructor(private readonly client: Client) {}

  async groups(rule: Rule, q: GroupQuery): Promise<GroupStats[]> {
    const sub = subAggregations(q);
    const query = { bool: { filter: [range(q.from, q.to), ...rule.filter.clauses, ...(q.lastValues ? [{ exists: { field: q.lastValues.field } }] : [])] } };
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
    } while (after && out.length < MAX_GROUPS);
    return out;
  }

  async samples(rule: Rule, key: GroupKey, template: string | undefined, from: number, to: number, n: number): Promise<Record<string, unknown>[]> {
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

  async countSince(rule: Rule, key: GroupKey, template: string | undefined, after: number, to: number): Promise<{ count: number; last: number }> {
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

/** The rule's filter, narrowed to one group (and template) within a time range. */
function groupQuery(rule: Rule, key: GroupKey, template: string | undefined, timeRange: unknown): unknown {
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
