import { describe, expect, it } from 'vitest';
import { incidentsAt, matchesAt, ruleFrom, templateText, type HeldEvent } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, store: string, message: string): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message, store, kind: 'price' } });
const events = [ev(10, 'A', 'Product #100 has no price'), ev(20, 'A', 'Product #101 has no price'), ev(25, 'A', 'Store config invalid'), ev(15, 'B', 'Product #7 has no price'), ev(600, 'C', 'Product #8 has no price')];

describe('any', () => {
  const rule = ruleFrom({ type: 'any', filter: { kind: 'price' }, group_by: ['store'] });

  it('every event in the window; one match per group and message template', async () => {
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key.store, templateText(x.template), x.count]).sort()).toEqual([
      ['A', 'Product #<*> has no price', 2],
      ['A', 'Store config invalid', 1],
      ['B', 'Product #<*> has no price', 1],
    ]);
    expect(m[0].samples).toBeUndefined(); // fetched only for matches that change an incident
  });

  it('one incident per group and template; a recurrence adds its events', async () => {
    const incidents = await incidentsAt(rule, [...events, ev(-5, 'A', 'Product #102 has no price')], [NOW, NOW + 10_000]);
    const a = incidents.find((i) => i.group_key === 'store=A' && i.message_template === 'Product #<*> has no price');
    expect(a).toMatchObject({ count: 3, occurrences: 2, fire_count: 1 });
    expect(incidents).toHaveLength(3);
  });
});
