import { describe, expect, it } from 'vitest';
import { incidentsAt, matchesAt, ruleFrom, type HeldEvent, templateText } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, doc: Record<string, unknown>): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc });

const events = [
  ev(10, { message: 'login from user 7', user: { name: 'mallory' }, store: 'A' }),
  ev(20, { message: 'login from user 8', user: { name: 'mallory' }, store: 'A' }),
  ev(30, { message: 'payment by user 9', user: { name: 'eve' }, store: 'B' }),
  ev(40, { message: 'login from user 1', user: { name: 'alice' }, store: 'A' }),
  ev(50, { message: 'login from user 2', store: 'A' }),
  ev(600, { message: 'login from user 7', user: { name: 'mallory' }, store: 'C' }), // outside the window
];

describe('blacklist', () => {
  const rule = ruleFrom({ type: 'blacklist', compare_key: 'user.name', blacklist: ['mallory', 'eve'], group_by: 'store' });

  it('matches the events whose compare_key is listed, one match per group and message template', async () => {
    const m = await matchesAt(rule, events, NOW);
    expect(m.map((x) => [x.key, templateText(x.template), x.count]).sort()).toEqual([
      [{ store: 'A' }, 'login from user <num>', 2],
      [{ store: 'B' }, 'payment by user <num>', 1],
    ]);
    expect(m[0].summary).toMatch(/with user.name in the blacklist$/);
  });

  it('narrows the rule filter, so live and offline evaluation see the same events', () => {
    expect(rule.filter.clauses).toEqual([{ terms: { 'user.name': ['mallory', 'eve'] } }]);
    expect(rule.filter.test({ user: { name: 'eve' } })).toBe(true);
    expect(rule.filter.test({ user: { name: 'alice' } })).toBe(false);
    expect(rule.filter.test({})).toBe(false);
  });

  it('keeps the rule filter too, and counts only listed events into the incident', async () => {
    const narrowed = ruleFrom({ type: 'blacklist', filter: { store: 'A' }, compare_key: 'user.name', blacklist: ['mallory'] });
    const more = [...events, ev(5, { message: 'login from user 3', user: { name: 'alice' }, store: 'A' }), ev(4, { message: 'login from user 4', user: { name: 'mallory' }, store: 'A' })];
    const [inc] = await incidentsAt(narrowed, more, [NOW - 6000, NOW]);
    expect(inc).toMatchObject({ rule_type: 'blacklist', message_template: 'login from user <num>', count: 3, occurrences: 2 });
  });

  it('needs a list of values', () => {
    expect(() => ruleFrom({ type: 'blacklist', compare_key: 'user.name', blacklist: [] })).toThrow(/blacklist/);
    expect(() => ruleFrom({ type: 'blacklist', blacklist: ['x'] })).toThrow(/compare_key/);
  });
});
