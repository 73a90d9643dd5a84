import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (store: string, status: string): HeldEvent => ({ at: NOW - 40_000, doc: { message: 'payment', store, status } });
// A fails 10 of 20 payments, B 1 of 20, C 3 of 3 (below min_denominator).
const events = [...Array.from({ length: 20 }, (_, i) => ev('A', i < 10 ? 'failed' : 'ok')), ...Array.from({ length: 20 }, (_, i) => ev('B', i < 1 ? 'failed' : 'ok')), ...Array.from({ length: 3 }, () => ev('C', 'failed'))];

describe('percentage_match', () => {
  it('the share of matching events above the maximum, once min_denominator events are in', async () => {
    const m = await matchesAt(ruleFrom({ type: 'percentage_match', match_filter: { status: 'failed' }, max_percentage: 30, window: '5m', group_by: ['store'] }), events, NOW);
    expect(m.map((x) => [x.key.store, x.value, x.count])).toEqual([['A', 50, 10]]);
  });

  it('min_denominator 0 (ElastAlert2\'s default) lets 3 of 3 count', async () => {
    const m = await matchesAt(ruleFrom({ type: 'percentage_match', match_filter: { status: 'failed' }, max_percentage: 30, min_denominator: 0, window: '5m', group_by: ['store'] }), events, NOW);
    expect(m.map((x) => x.key.store).sort()).toEqual(['A', 'C']);
  });
});
