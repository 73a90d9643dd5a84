import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, store: string): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message: 'payment failed', store } });
// A goes from 2 (2–4 min ago) to 8 (last 2 min); B stays at 4 and 4; C is new (no baseline).
const events = [
  ...[150, 200, 300].map((s) => ev(s, 'A')),
  ...Array.from({ length: 8 }, (_, i) => ev(5 + i * 10, 'A')),
  ...Array.from({ length: 4 }, (_, i) => ev(130 + i * 20, 'B')),
  ev(300, 'B'),
  ...Array.from({ length: 4 }, (_, i) => ev(10 + i * 20, 'B')),
  ...Array.from({ length: 9 }, (_, i) => ev(5 + i * 10, 'C')),
];

describe('spike', () => {
  it('the group whose rate tripled, not the steady one nor the one without a baseline', async () => {
    const rule = ruleFrom({ type: 'spike', window: '2m', spike_height: 3, group_by: ['store'] });
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key.store, x.template, x.count, x.value])).toEqual([['A', 'event rate spiked up', 8, 4]]);
  });

  it('spike_type down finds drops only', async () => {
    const rule = ruleFrom({ type: 'spike', window: '2m', spike_height: 3, spike_type: 'down', group_by: ['store'] });
    expect(await matchesAt(rule, events, NOW)).toEqual([]);
    const dropped = await matchesAt(rule, events, NOW + 120_000);
    expect(dropped.map((x) => [x.key.store, x.template])).toEqual([['A', 'event rate dropped'], ['B', 'event rate dropped']]);
  });
});
