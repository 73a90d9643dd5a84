import { describe, expect, it } from 'vitest';
import { buildRule } from '../rule.js';
import { ruleSchema } from '../schema.js';
import { LateEvents } from './late-events.js';

const rule = (spec: Record<string, unknown>) => buildRule(ruleSchema.parse({ name: 'r', severity: 'low', dataset: 'app', ...spec }), 'r.yml');
const NOW = Date.parse('2026-12-03T12:00:00Z');
const T = (iso: string) => Date.parse(iso);

describe('LateEvents', () => {
  it('an event inside the window an evaluation now looks at is not late; an old one, or one ahead of the clock, is', () => {
    const late = new LateEvents();
    const any = rule({ type: 'any', window: '1h' });
    expect(late.note(any, NOW - 60_000, NOW)).toBe(false);
    expect(late.note(any, NOW - 3_600_000 - 1, NOW)).toBe(true);
    expect(late.note(any, T('2015-07-29T19:04:29.071Z'), NOW)).toBe(true);
    expect(late.note(any, NOW + 60_000, NOW)).toBe(true);
    // Counting over a window of log time, these types only: a flatline is about now.
    expect(late.note(rule({ type: 'flatline', threshold: 1, window: '1h' }), T('2015-07-29T19:04:29Z'), NOW)).toBe(false);
  });

  it('evaluates each span of at most the rule window once, at its end, so every late event is inside one window', () => {
    const late = new LateEvents();
    const any = rule({ type: 'any', window: '1h' });
    const times = ['2015-07-29T17:42:30.405Z', '2015-07-29T17:42:53.528Z', '2015-07-29T18:40:00.000Z', '2015-07-29T19:04:29.071Z', '2015-08-25T11:21:22.561Z'].map(T);
    for (const t of times) late.note(any, t, NOW);
    const ends = late.take(32).get(any)!;
    expect(ends.map((e) => new Date(e).toISOString())).toEqual(['2015-07-29T18:40:00.999Z', '2015-07-29T19:04:29.999Z', '2015-08-25T11:21:22.999Z']);
    for (const t of times) expect(ends.some((e) => t <= e && t >= e - 3_600_000)).toBe(true);
    expect(late.pending).toBe(0);
  });

  it('a frequency rule slides over late events, one evaluation per second holding them: a burst across two spans is counted whole', () => {
    const late = new LateEvents();
    const frequency = rule({ type: 'frequency', threshold: 20, window: '1m' });
    const start = T('2020-01-01T00:00:00Z');
    // 1 at +0 s, 15 at +50–54 s, 15 at +62–66 s, 1 at +120 s: 30 within the minute ending at +66 s.
    const times = [0, ...[50, 51, 52, 53, 54].flatMap((s) => [s, s, s]), ...[62, 63, 64, 65, 66].flatMap((s) => [s, s, s]), 120].map((s) => start + s * 1000 + 1);
    for (const t of times) late.note(frequency, t, NOW);
    const ends = late.take(64).get(frequency)!;
    expect(ends).toHaveLength(12);
    expect(ends.some((e) => times.filter((t) => t <= e && t > e - 60_000).length >= 20)).toBe(true);
  });

  it('hands out at most `max` evaluations per rule; the rest wait for the next call, nothing is dropped', () => {
    const late = new LateEvents();
    const any = rule({ type: 'any', window: '1m' });
    for (let h = 0; h < 10; h++) late.note(any, T('2015-01-01T00:00:00Z') + h * 3_600_000, NOW);
    expect(late.take(4).get(any)).toHaveLength(4);
    expect(late.pending).toBe(6);
    expect(late.take(4).get(any)).toHaveLength(4);
    expect(late.take(4).get(any)).toHaveLength(2);
    expect(late.pending).toBe(0);
  });

  it('what waits for a rule goes to its new version after a reload, and is forgotten with a rule removed', () => {
    const late = new LateEvents();
    late.note(rule({ type: 'any', window: '1m' }), T('2015-01-01T00:00:00Z'), NOW);
    const edited = rule({ type: 'any', window: '5m' });
    late.retain([edited]);
    expect([...late.take(8).keys()]).toEqual([edited]);
    late.note(edited, T('2015-01-01T00:00:00Z'), NOW);
    late.retain([]);
    expect(late.pending).toBe(0);
  });
});
