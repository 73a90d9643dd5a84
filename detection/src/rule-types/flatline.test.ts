import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, bot: string): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message: 'reply sent', bot } });
// h1 wrote from 10 to 6 minutes ago, then nothing; h2 writes until now; h3 started a minute ago.
const events = [...Array.from({ length: 9 }, (_, i) => ev(600 - i * 30, 'h1')), ...Array.from({ length: 21 }, (_, i) => ev(600 - i * 30, 'h2')), ev(60, 'h3')];

describe('flatline', () => {
  const rule = ruleFrom({ type: 'flatline', threshold: 1, window: '5m', lookback: '1h', group_by: ['bot'] });

  it('the group silent for the whole window, not the one still writing, nor one seen for less than a window', async () => {
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key, x.count, x.template])).toEqual([[{ bot: 'h1' }, 0, 'fewer than 1 events in 5m']]);
  });

  it('a group silent for longer than the lookback is forgotten', async () => {
    const m = await matchesAt(rule, events, NOW + 3_600_000);
    expect(m.map((x) => x.key.bot)).toEqual(['h2']); // h1's last event is more than an hour old
  });
});
