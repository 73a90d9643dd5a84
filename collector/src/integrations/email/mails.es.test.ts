// The digest's numbers, read from a real Elasticsearch (e2e tier): open incidents by severity,
// opened and resolved in the period, mean time to acknowledge, top message templates — each
// counted for the team and the period only.
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { describe, expect, inject, it } from 'vitest';
import { INDICES } from '@stacklens/common';
import { installTemplates } from '@stacklens/elasticsearch';
import { digestFacts, digestMail } from './mails.js';
import { periodLength, periodStart } from './digest-schedule.js';
import { digestSchedule } from './digest-schedule.js';

const es = new Client({ node: inject('esUrl') });
const H = 3_600_000;

describe('email digest', () => {
  it('counts the team\'s incidents of the period, and nothing else', async () => {
    await installTemplates(es);
    const team = `dg${randomBytes(3).toString('hex')}`;
    const to = Date.parse('2026-06-02T08:00:00Z');
    const from = to - 24 * H;
    const iso = (t: number) => new Date(t).toISOString();
    const docs = [
      // In the period: opened, acknowledged after 120 s, still open.
      { id: 'a', team, severity: 'critical', status: 'acknowledged', detected_at: iso(from + H), acknowledged_at: iso(from + H + 120_000), time_to_acknowledge_seconds: 120, last_seen: iso(from + 2 * H), message_template: 'Product #<*> has no price', count: 40 },
      // In the period: opened and resolved, acknowledged after 300 s.
      { id: 'b', team, severity: 'high', status: 'resolved', detected_at: iso(from + 3 * H), acknowledged_at: iso(from + 3 * H + 300_000), time_to_acknowledge_seconds: 300, resolved_at: iso(from + 4 * H), last_seen: iso(from + 4 * H), message_template: 'Payment declined for invoice <*>', count: 5 },
      // Opened before the period, still open, seen in it.
      { id: 'c', team, severity: 'critical', status: 'open', detected_at: iso(from - 5 * H), last_seen: iso(from + 5 * H), message_template: 'Product #<*> has no price', count: 7 },
      // After the period: open (counts as open now), not in the period's numbers.
      { id: 'd', team, severity: 'low', status: 'open', detected_at: iso(to + H), last_seen: iso(to + H), message_template: 'late', count: 1 },
      // Another team: nowhere.
      { id: 'e', team: `${team}x`, severity: 'critical', status: 'open', detected_at: iso(from + H), last_seen: iso(from + H), message_template: 'other', count: 99 },
    ];
    await es.bulk({ refresh: true, operations: docs.flatMap(({ id, team: t, ...d }) => [{ index: { _index: INDICES.incidents, _id: `${team}-${id}` } }, { id: `${team}-${id}`, labels: { team: t }, ...d }]) });
    const f = await digestFacts(es, team, from, to);
    expect(f.open).toEqual({ critical: 2, low: 1 });
    expect(f.opened).toBe(2);
    expect(f.resolved).toBe(1);
    expect(f.acknowledged).toBe(2);
    expect(f.mttaSeconds).toBe(210);
    expect(f.templates).toEqual([
      { template: 'Product #<*> has no price', events: 47, incidents: 2 },
      { template: 'Payment declined for invoice <*>', events: 5, incidents: 1 },
    ]);
    const mail = digestMail(f, ['ops@example.com']);
    expect(mail.subject).toBe(`StackLens digest for ${team}: 3 open, 2 opened, 1 resolved (2026-06-01 08:00 – 2026-06-02 08:00 UTC)`);
    expect(mail.text).toContain('Mean time to acknowledge: 4 min (2 acknowledged)');
    expect(mail.html).toContain('<code>Product #&lt;*&gt; has no price</code>');
  });

  it('periods: hourly at the top of the hour, daily at HH:MM UTC', () => {
    const hourly = digestSchedule().parse('hourly');
    const daily = digestSchedule().parse('daily 08:00');
    const t = Date.parse('2026-06-02T07:59:59Z');
    expect(iso(periodStart(hourly, t))).toBe('2026-06-02T07:00:00.000Z');
    expect(iso(periodStart(daily, t))).toBe('2026-06-01T08:00:00.000Z');
    expect(iso(periodStart(daily, t + 1000))).toBe('2026-06-02T08:00:00.000Z');
    expect(periodLength(daily)).toBe(24 * H);
    expect(digestSchedule().safeParse('daily 8').success).toBe(false);
    expect(digestSchedule().safeParse('weekly').error?.issues[0].message).toMatch(/"hourly" or "daily HH:MM"/);
  });
});
const iso = (t: number) => new Date(t).toISOString();
