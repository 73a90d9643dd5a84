import { describe, expect, it } from 'vitest';
import { matchesAt, memorySourceWith, ruleFrom, type HeldEvent } from '../memory-evaluate.js';
import type { GroupQuery, StatsSource } from '../stats.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, doc: Record<string, unknown>): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message: 'x', ...doc } });

/**
 * A source that, like Elasticsearch's composite aggregation, lists groups in key order and
 * stops after `limit` of them — unless the query names the groups it wants.
 */
function capped(source: StatsSource, limit: number): StatsSource & { queries: GroupQuery[] } {
  const queries: GroupQuery[] = [];
  return {
    queries,
    async groups(rule, q) {
      queries.push(q);
      const all = await source.groups(rule, q);
      if (q.keys) return all;
      const id = (g: (typeof all)[number]) => JSON.stringify(q.groupBy.map((f) => g.key[f]));
      return all.sort((a, b) => id(a).localeCompare(id(b))).slice(0, limit);
    },
    samples: (...args) => source.samples(...args),
    countSince: (...args) => source.countSince(...args),
  };
}

describe('new_term', () => {
  const rule = ruleFrom({ type: 'new_term', fields: ['error.type'], window: '1m', lookback: '1h', group_by: ['store'] });

  it('a value first seen within the window, not in the lookback before it', async () => {
    const events = [ev(1800, { error: { type: 'OLD' }, store: 'A' }), ev(20, { error: { type: 'OLD' }, store: 'A' }), ev(25, { error: { type: 'NEW' }, store: 'A' }), ev(30, { error: { type: 'OLD' }, store: 'B' }), ev(40, {})];
    const m = await matchesAt(rule, events, NOW);
    // OLD is new in store B (per group); an event without the field is not a term.
    expect(m.map((x) => [x.key, x.value]).sort()).toEqual([
      [{ store: 'A', 'error.type': 'NEW' }, 'error.type=NEW'],
      [{ store: 'B', 'error.type': 'OLD' }, 'error.type=OLD'],
    ]);
  });

  it('a term last seen before the lookback is new again', async () => {
    const m = await matchesAt(rule, [ev(7200, { error: { type: 'BACK' }, store: 'A' }), ev(10, { error: { type: 'BACK' }, store: 'A' })], NOW);
    expect(m.map((x) => x.key['error.type'])).toEqual(['BACK']);
  });

  it('finds a new value when the field has more values than a source lists at once', async () => {
    // 6,000 values seen in the last hour, then one more that sorts after all of them.
    const events = Array.from({ length: 6000 }, (_, i) => ev(600 + (i % 1000), { error: { type: `T${String(i).padStart(5, '0')}` }, store: 'A' }));
    events.push(ev(10, { error: { type: 'ZZZ_NEW' }, store: 'A' }), ev(15, { error: { type: 'T00001' }, store: 'A' }));
    const source = capped(memorySourceWith(rule, events), 5000);
    const m = await rule.ruleType.evaluate(rule, NOW, source);
    expect(m.map((x) => x.key['error.type'])).toEqual(['ZZZ_NEW']);
    // No listing of the whole lookback: the window's terms, then those terms looked up before it.
    expect(source.queries.map((q) => [q.from, q.to, q.keys?.length])).toEqual([
      [NOW - 60_000, NOW + 1, undefined],
      [NOW - 3_600_000, NOW - 60_000, 2],
    ]);
  });
});
