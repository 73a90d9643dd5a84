import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (store: string, ms: number): HeldEvent => ({ at: NOW - 60_000, doc: { message: 'reply', store, ms } });
// A's response times have a slow tail (p95 > 2000), B's do not.
const events = [...Array.from({ length: 17 }, (_, i) => ev('A', 100 + i * 50)), ...[3000, 3500, 4000].map((v) => ev('A', v)), ...Array.from({ length: 20 }, (_, i) => ev('B', 100 + i * 20))];

describe('metric_aggregation', () => {
  it('a percentile above the threshold', async () => {
    const m = await matchesAt(ruleFrom({ type: 'metric_aggregation', field: 'ms', metric: 'percentile', percentile: 95, max_threshold: 2000, window: '5m', group_by: ['store'] }), events, NOW);
    expect(m.map((x) => [x.key.store, x.template])).toEqual([['A', 'p95(ms) above 2000']]);
    expect(Number(m[0].value)).toBeGreaterThan(2000);
  });

  it('avg below a minimum, with min_doc_count', async () => {
    const rule = (min_doc_count: number) => ruleFrom({ type: 'metric_aggregation', field: 'ms', metric: 'avg', min_threshold: 500, min_doc_count, window: '5m', group_by: ['store'] });
    expect((await matchesAt(rule(1), events, NOW)).map((x) => [x.key.store, x.value])).toEqual([['B', 290]]);
    expect(await matchesAt(rule(21), events, NOW)).toEqual([]);
  });
});
