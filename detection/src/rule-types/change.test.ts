import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, kiosk: string, version?: string): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message: 'config loaded', kiosk, ...(version ? { version } : {}) } });
// K1 goes v1 → v2 20 s ago; K2 stays on v1; K3 changed long before the window.
const events = [ev(600, 'K1', 'v1'), ev(20, 'K1', 'v2'), ev(600, 'K2', 'v1'), ev(20, 'K2', 'v1'), ev(900, 'K3', 'v1'), ev(600, 'K3', 'v2'), ev(10, 'K2')];

describe('change', () => {
  it('the latest value differs from the one before, within the window', async () => {
    const m = await matchesAt(ruleFrom({ type: 'change', compare_key: 'version', window: '1m', lookback: '1h', group_by: ['kiosk'] }), events, NOW);
    expect(m.map((x) => [x.key.kiosk, x.value, x.template])).toEqual([['K1', '"v1" → "v2"', 'version changed']]);
  });
});
