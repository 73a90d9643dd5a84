import { describe, expect, it } from 'vitest';
import { matchesAt, ruleFrom, type HeldEvent, templateText } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, doc: Record<string, unknown>): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc });

const events = [
  ev(10, { message: 'login from 10.0.0.1', country: 'NZ' }),
  ev(20, { message: 'login from 10.0.0.2', country: 'AU' }),
  ev(30, { message: 'login from 10.0.0.3', country: 'KP' }),
  ev(40, { message: 'login from 10.0.0.4', country: 'KP' }),
  ev(50, { message: 'login from 10.0.0.5' }), // no country
  ev(55, { message: 'login from 10.0.0.6', country: ['NZ', 'RU'] }), // one value listed, one not
];

describe('whitelist', () => {
  it('matches the events whose compare_key is not listed; ignore_null (default) skips events without it', async () => {
    const rule = ruleFrom({ type: 'whitelist', compare_key: 'country', whitelist: ['NZ', 'AU'], group_by: ['country'] });
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key, x.count])).toEqual([[{ country: 'KP' }, 2]]);
    expect(templateText(m[0].template)).toBe('login from <ip>');
    expect(m[0].summary).toBe('2 events in 1m with country not in the whitelist');
  });

  it('with ignore_null: false, an event without the field is a match (ElastAlert2: not ignore_null)', async () => {
    const rule = ruleFrom({ type: 'whitelist', compare_key: 'country', whitelist: ['NZ', 'AU'], ignore_null: false, group_by: ['country'] });
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key.country, x.count]).sort()).toEqual([[null, 1], ['KP', 2]]);
  });

  it('is an Elasticsearch must_not terms query, the same offline', () => {
    const rule = ruleFrom({ type: 'whitelist', compare_key: 'country', whitelist: ['NZ'] });
    expect(rule.filter.clauses).toEqual([{ bool: { must_not: [{ terms: { country: ['NZ'] } }], filter: [{ exists: { field: 'country' } }] } }]);
    expect(rule.filter.unsupported).toBeUndefined();
  });
});
