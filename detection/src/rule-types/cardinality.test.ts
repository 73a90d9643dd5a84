import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (store: string, user: string): HeldEvent => ({ at: NOW - 30_000, doc: { message: 'login', store, user_id: user } });
const events = [...['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => ev('A', u)), ...['u1', 'u2', 'u1'].map((u) => ev('B', u))];

describe('cardinality', () => {
  it('distinct values above the maximum, per group', async () => {
    const m = await matchesAt(ruleFrom({ type: 'cardinality', field: 'user_id', max_cardinality: 3, window: '5m', group_by: ['store'] }), events, NOW);
    expect(m.map((x) => [x.key.store, x.value, x.template])).toEqual([['A', 5, 'distinct user_id above 3']]);
  });

  it('and below the minimum', async () => {
    const m = await matchesAt(ruleFrom({ type: 'cardinality', field: 'user_id', min_cardinality: 3, window: '5m', group_by: ['store'] }), events, NOW);
    expect(m.map((x) => [x.key.store, x.value])).toEqual([['B', 2]]);
  });
});
