// ElastAlert2's key names are read as ours; errors name the key as the file wrote it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from './loader.js';
import { ruleSchema } from './schema.js';

const base = { name: 'r', severity: 'low', dataset: 'pos' };
const parse = (keys: Record<string, unknown>) => ruleSchema.parse({ ...base, ...keys });

describe('ElastAlert2 key names', () => {
  it('query_key, num_events and timeframe (also as {minutes: 5}) for frequency', () => {
    expect(parse({ type: 'frequency', query_key: 'pos.store_id', num_events: 5, timeframe: { minutes: 5 } })).toMatchObject({ group_by: ['pos.store_id'], threshold: 5, window: 300_000 });
    expect(parse({ type: 'frequency', threshold: 5, window: '1m', realert: { hours: 1, minutes: 30 } })).toMatchObject({ realert: 5_400_000 });
  });

  it('terms_window_size for new_term, cardinality_field for cardinality', () => {
    expect(parse({ type: 'new_term', fields: ['error.type'], terms_window_size: { days: 30 } })).toMatchObject({ lookback: 30 * 86_400_000 });
    expect(parse({ type: 'cardinality', cardinality_field: 'user.name', max_cardinality: 3, timeframe: '5m' })).toMatchObject({ field: 'user.name', window: 300_000 });
  });

  it('metric_agg_key, metric_agg_type (percentiles), percentile_range and buffer_time for metric_aggregation', () => {
    expect(parse({ type: 'metric_aggregation', metric_agg_key: 'chatbot.response_time_ms', metric_agg_type: 'percentiles', percentile_range: 95, max_threshold: 2000, buffer_time: { minutes: 10 } })).toMatchObject({
      field: 'chatbot.response_time_ms',
      metric: 'percentile',
      percentile: 95,
      window: 600_000,
    });
  });

  it('match_bucket_filter (a list of queries) for percentage_match', () => {
    const spec = parse({ type: 'percentage_match', match_bucket_filter: [{ term: { status: 'failed' } }], max_percentage: 10, buffer_time: '5m' });
    expect(spec).toMatchObject({ match_filter: { query: { bool: { must: [{ term: { status: 'failed' } }] } } }, window: 300_000, min_denominator: 10 });
  });

  it('refuses both names at once, and an alias of another type', () => {
    const both = ruleSchema.safeParse({ ...base, type: 'frequency', threshold: 5, num_events: 5, window: '1m' });
    expect(both.error?.issues.map((i) => [i.path, i.message])).toEqual([[['num_events'], 'is ElastAlert2\'s name for "threshold": give one of them']]);
    const other = ruleSchema.safeParse({ ...base, type: 'any', num_events: 5 });
    expect(other.error?.issues.map((i) => [i.code, i.path])).toEqual([['unrecognized_keys', []]]);
  });

  it('names the key as written, with its line', () => {
    const d = mkdtempSync(join(tmpdir(), 'rules-'));
    writeFileSync(join(d, 'a.yml'), 'name: a\nseverity: low\ndataset: pos\ntype: frequency\nnum_events: 5\ntimeframe: soon\nquery_key: [pos.store_id]\n');
    writeFileSync(join(d, 'b.yml'), 'name: b\nseverity: low\ndataset: pos\ntype: frequency\nnum_events: lots\ntimeframe: {fortnights: 1}\n');
    const { rules, errors } = loadRules(d);
    expect(rules).toEqual([]);
    expect(errors.map((e) => e.message.replaceAll(`${d}/`, ''))).toEqual([
      'a.yml:6: timeframe: not a duration: "soon" (use e.g. 250ms, 1s, 5m, 1h)',
      'b.yml:5: num_events: Invalid input: expected number, received string\nb.yml:6: timeframe: not a duration: use e.g. 5m, or {minutes: 5} (keys weeks, days, hours, minutes, seconds, milliseconds)',
    ]);
  });
});
