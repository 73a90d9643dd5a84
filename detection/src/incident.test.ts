// Incident transitions, as pure functions: opened from a match, updated by a recurrence,
// acknowledged, resolved, reopened — fired (notified) or not, by realert and silences.
import { describe, expect, it } from 'vitest';
import { applyAction, incidentFingerprint, incidentId, openIncident, recordMatch, type Incident } from './incident.js';
import { buildRule } from './rule.js';
import type { Match } from './rule-type.js';
import { ruleSchema } from './schema.js';

const T0 = Date.parse('2024-11-16T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;

/** An event type (frequency: counts matching events) and an aggregate type (flatline: measures a condition). */
const frequency = (extra: Record<string, unknown> = {}) =>
  buildRule(ruleSchema.parse({ name: 'pos-missing-price', severity: 'critical', dataset: 'pos', namespace: 'default', type: 'frequency', threshold: 3, window: '1m', group_by: ['pos.store_id'], realert: '10m', auto_resolve: '30m', labels: { team: 'pos' }, notify: ['jira'], runbook: 'Set the price.', ...extra }), 'missing-price.yml');
const flatline = () => buildRule(ruleSchema.parse({ name: 'pos-silent', severity: 'high', dataset: 'pos', namespace: 'default', type: 'flatline', threshold: 1, window: '5m' }), 'silent.yml');

const sample = (n: number, at = T0) => ({ '@timestamp': iso(at - n * 1000), message: `Product #${n} has no price`, log: { offset: n * 100, file: { path: '/var/log/pos.log' } } });
const match = (over: Partial<Match> = {}): Match => ({
  key: { 'pos.store_id': 'STORE_001' },
  template: 'Product #<num> has no price',
  count: 3,
  first: T0 - 30_000,
  last: T0 - 1_000,
  summary: '3 events in 1m (threshold 3)',
  samples: [sample(1), sample(2), sample(3)],
  ...over,
});
const stages = (inc: Incident) => inc.timeline.map((t) => t.stage);

describe('summary', () => {
  it('says what happened and where, not only the counting', () => {
    expect(openIncident(frequency(), match(), T0).summary).toBe('Product #<num> has no price — pos.store_id=STORE_001: 3 events in 1m (threshold 3)');
    expect(openIncident(frequency(), match({ key: {} }), T0).summary).toBe('Product #<num> has no price: 3 events in 1m (threshold 3)');
    // An aggregate condition: where, and what was measured.
    const silent = openIncident(flatline(), match({ key: { 'host.name': 'kiosk-7' }, template: 'fewer than 1 events in 5m', count: 0, first: 0, last: 0, samples: [], summary: '0 events in the last 5m (threshold 1)' }), T0);
    expect(silent.summary).toBe('host.name=kiosk-7: 0 events in the last 5m (threshold 1)');
  });
});

describe('identity', () => {
  it('one fingerprint per rule, index, group and template; the group key in any order; ids the same on every collector', () => {
    const fp = incidentFingerprint('r', 'logs-pos-default', { a: '1', b: '2' }, 'T');
    expect(fp).toMatch(/^[0-9a-f]{32}$/);
    expect(incidentFingerprint('r', 'logs-pos-default', { b: '2', a: '1' }, 'T')).toBe(fp);
    const others = [
      incidentFingerprint('r2', 'logs-pos-default', { a: '1', b: '2' }, 'T'),
      incidentFingerprint('r', 'logs-pos-staging', { a: '1', b: '2' }, 'T'),
      incidentFingerprint('r', 'logs-pos-default', { a: '1', b: '3' }, 'T'),
      incidentFingerprint('r', 'logs-pos-default', { a: '1', b: '2' }, 'T2'),
      incidentFingerprint('r', 'logs-pos-default', { a: '1' }, 'T'),
    ];
    expect(new Set([fp, ...others]).size).toBe(6);
    expect(incidentId(fp)).toBe(`inc-${fp.slice(0, 20)}`);
  });
});

describe('openIncident', () => {
  it('opens an event-type incident from a match: open, fired once, timed by the events, auto-resolving later', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    expect(inc).toMatchObject({
      id: incidentId(incidentFingerprint('pos-missing-price', 'logs-pos-default', { 'pos.store_id': 'STORE_001' }, 'Product #<num> has no price')),
      rule: 'pos-missing-price',
      rule_type: 'frequency',
      severity: 'critical',
      status: 'open',
      group_key: 'pos.store_id=STORE_001',
      group: { 'pos.store_id': 'STORE_001' },
      message_template: 'Product #<num> has no price',
      count: 3,
      occurrences: 1,
      first_seen: iso(T0 - 30_000),
      last_seen: iso(T0 - 1_000),
      detected_at: iso(T0),
      fire_count: 1,
      last_fired_at: iso(T0),
      actions_pending: true,
      reopen_count: 0,
      auto_resolve_at: iso(T0 + 30 * MIN),
      labels: { team: 'pos' },
      notify: ['jira'],
      runbook: 'Set the price.',
      index: 'logs-pos-default',
    });
    expect(inc.timeline).toEqual([{ stage: 'detected', at: iso(T0), note: '3 events in 1m (threshold 3)' }]);
    expect(inc.silenced_by).toBeUndefined();
    expect(inc.samples.map((s) => s.message)).toEqual(['Product #1 has no price', 'Product #2 has no price', 'Product #3 has no price']);
  });

  it('an aggregate-type incident is timed by the evaluation, not by events', () => {
    const inc = openIncident(flatline(), match({ key: {}, template: 'fewer than 1 events in 5m', count: 0, first: 0, last: 0, samples: [] }), T0);
    expect(inc).toMatchObject({ first_seen: iso(T0), last_seen: iso(T0), count: 0, group_key: '', fire_count: 1 });
  });

  it('opened under a silence: recorded, not fired', () => {
    const inc = openIncident(frequency(), match(), T0, 'sil-1');
    expect(inc).toMatchObject({ status: 'open', fire_count: 0, silenced_by: 'sil-1' });
    expect(inc.last_fired_at).toBeUndefined();
    expect(inc.actions_pending).toBeUndefined();
    expect(inc.timeline.map((t) => [t.stage, t.note])).toEqual([
      ['detected', '3 events in 1m (threshold 3)'],
      ['silenced', 'silence sil-1'],
    ]);
  });

  it('owes actions (actions_pending) only when it fires and its rule notifies someone', () => {
    expect(openIncident(frequency({ notify: [] }), match(), T0).actions_pending).toBeUndefined();
    expect(openIncident(frequency({ notify: ['slack'] }), match(), T0).actions_pending).toBe(true);
  });

  it('without auto_resolve (0) nothing resolves it by itself', () => {
    expect(openIncident(frequency({ auto_resolve: 0 }), match(), T0).auto_resolve_at).toBeUndefined();
  });
});

describe('recordMatch', () => {
  it('an event type: a re-evaluation that adds no event changes nothing', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    const before = structuredClone(inc);
    expect(recordMatch(inc, rule, match(), { count: 0, last: T0 }, T0 + 5_000)).toEqual({ changed: false, fired: false });
    expect(inc).toEqual(before);
  });

  it('an event type: new events add up, last_seen moves (never back), samples keep the newest five, no new alert while open', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    const r = recordMatch(inc, rule, match({ count: 4, summary: '4 events in 1m (threshold 3)', samples: [sample(4, T0 + 9000), sample(5, T0 + 9000), sample(1)] }), { count: 2, last: T0 + 8_000 }, T0 + 10_000);
    expect(r).toEqual({ changed: true, fired: false });
    expect(inc).toMatchObject({ status: 'open', count: 5, occurrences: 2, last_seen: iso(T0 + 8_000), first_seen: iso(T0 - 30_000), summary: 'Product #<num> has no price — pos.store_id=STORE_001: 4 events in 1m (threshold 3)', fire_count: 1, updated_at: iso(T0 + 10_000), last_matched_at: iso(T0 + 10_000), auto_resolve_at: iso(T0 + 10_000 + 30 * MIN) });
    // Newest first, the repeated sample once, five at most.
    expect(inc.samples.map((s) => s.message)).toEqual(['Product #4 has no price', 'Product #5 has no price', 'Product #1 has no price', 'Product #2 has no price', 'Product #3 has no price']);
    // Events that arrive late (older than last_seen) count but do not move last_seen back.
    recordMatch(inc, rule, match(), { count: 1, last: T0 }, T0 + 20_000);
    expect(inc).toMatchObject({ count: 6, last_seen: iso(T0 + 8_000) });
    expect(stages(inc)).toEqual(['detected']);
  });

  it('an aggregate type: the count is the latest measurement, and every evaluation that finds the condition counts', () => {
    const rule = flatline();
    const inc = openIncident(rule, match({ key: {}, count: 0, samples: [] }), T0);
    expect(recordMatch(inc, rule, match({ key: {}, count: 0, samples: [] }), { count: 0, last: 0 }, T0 + MIN)).toEqual({ changed: true, fired: false });
    expect(inc).toMatchObject({ count: 0, occurrences: 2, last_seen: iso(T0 + MIN) });
  });

  it('reopens a resolved incident: the acknowledgement and resolution are cleared, and it fires again outside realert', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    expect(applyAction(inc, 'acknowledge', 'dana', T0 + MIN)).toBeUndefined();
    expect(applyAction(inc, 'resolve', 'dana', T0 + 2 * MIN)).toBeUndefined();
    inc.actions_pending = false; // the first firing's actions were queued
    const r = recordMatch(inc, rule, match({ summary: 'again' }), { count: 3, last: T0 + 11 * MIN }, T0 + 11 * MIN);
    expect(r).toEqual({ changed: true, fired: true });
    expect(inc).toMatchObject({ status: 'open', reopen_count: 1, fire_count: 2, last_fired_at: iso(T0 + 11 * MIN), count: 6, actions_pending: true });
    for (const f of ['resolved_at', 'resolved_by', 'acknowledged_at', 'acknowledged_by'] as const) expect(inc[f], f).toBeUndefined();
    expect(inc.timeline.at(-1)).toEqual({ stage: 'reopened', at: iso(T0 + 11 * MIN), note: 'again' });
    expect(stages(inc)).toEqual(['detected', 'acknowledged', 'resolved', 'reopened']);
  });

  it('reopens within realert without a new alert, and says so on the timeline', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    applyAction(inc, 'resolve', 'dana', T0 + MIN);
    const r = recordMatch(inc, rule, match({ summary: 'again' }), { count: 1, last: T0 + 5 * MIN }, T0 + 5 * MIN);
    expect(r).toEqual({ changed: true, fired: false });
    expect(inc).toMatchObject({ status: 'open', reopen_count: 1, fire_count: 1, last_fired_at: iso(T0) });
    expect(inc.timeline.at(-1)?.note).toBe('again; within realert (600000 ms): not notified again');
  });

  it('reopens under a silence: open again, not fired, the silence recorded', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    applyAction(inc, 'resolve', 'dana', T0 + MIN);
    const r = recordMatch(inc, rule, match(), { count: 1, last: T0 + 20 * MIN }, T0 + 20 * MIN, 'sil-2');
    expect(r).toEqual({ changed: true, fired: false });
    expect(inc).toMatchObject({ status: 'open', fire_count: 1, silenced_by: 'sil-2' });
    expect(stages(inc)).toEqual(['detected', 'resolved', 'reopened', 'silenced']);
  });

  it('a re-evaluation adding no events does not reopen a resolved incident', () => {
    const rule = frequency();
    const inc = openIncident(rule, match(), T0);
    applyAction(inc, 'resolve', 'stacklens', T0 + MIN, undefined);
    expect(recordMatch(inc, rule, match(), { count: 0, last: T0 }, T0 + 2 * MIN)).toEqual({ changed: false, fired: false });
    expect(inc.status).toBe('resolved');
  });
});

describe('applyAction', () => {
  it('acknowledge: only an open incident, once; with who, when and how long it took', () => {
    const inc = openIncident(frequency(), match(), T0);
    expect(applyAction(inc, 'acknowledge', 'dana', T0 + 90_000, 'looking')).toBeUndefined();
    expect(inc).toMatchObject({ status: 'acknowledged', acknowledged_by: 'dana', acknowledged_at: iso(T0 + 90_000), time_to_acknowledge_seconds: 90, updated_at: iso(T0 + 90_000) });
    expect(inc.timeline.at(-1)).toEqual({ stage: 'acknowledged', at: iso(T0 + 90_000), by: 'dana', note: 'looking' });
    expect(applyAction(inc, 'acknowledge', 'eve', T0 + 100_000)).toBe(`incident ${inc.id} is acknowledged; only an open incident can be acknowledged`);
    expect(inc.acknowledged_by).toBe('dana');
    applyAction(inc, 'resolve', 'dana', T0 + 120_000);
    expect(applyAction(inc, 'acknowledge', 'dana', T0 + 130_000)).toBe(`incident ${inc.id} is resolved; only an open incident can be acknowledged`);
    expect(inc.status).toBe('resolved');
  });

  it('resolve: from open or acknowledged, once; the auto-resolve deadline goes', () => {
    for (const ack of [false, true]) {
      const inc = openIncident(frequency(), match(), T0);
      if (ack) applyAction(inc, 'acknowledge', 'dana', T0 + 1000);
      expect(applyAction(inc, 'resolve', 'sam', T0 + 300_000, 'price fixed')).toBeUndefined();
      expect(inc).toMatchObject({ status: 'resolved', resolved_by: 'sam', resolved_at: iso(T0 + 300_000), time_to_resolve_seconds: 300 });
      expect(inc.auto_resolve_at).toBeUndefined();
      expect(inc.timeline.at(-1)).toEqual({ stage: 'resolved', at: iso(T0 + 300_000), by: 'sam', note: 'price fixed' });
      const snapshot = structuredClone(inc);
      expect(applyAction(inc, 'resolve', 'sam', T0 + 400_000)).toBe(`incident ${inc.id} is already resolved`);
      expect(applyAction(inc, 'auto_resolve', 'stacklens', T0 + 400_000)).toBe(`incident ${inc.id} is already resolved`);
      expect(inc).toEqual(snapshot);
    }
  });

  it('auto_resolve resolves with a note saying why', () => {
    const inc = openIncident(frequency(), match(), T0);
    expect(applyAction(inc, 'auto_resolve', 'stacklens', T0 + 30 * MIN)).toBeUndefined();
    expect(inc).toMatchObject({ status: 'resolved', resolved_by: 'stacklens', time_to_resolve_seconds: 1800 });
    expect(inc.timeline.at(-1)?.note).toBe('no new match during the quiet period');
  });

  it('time-to fields are never negative (a collector clock behind the detecting one)', () => {
    const inc = openIncident(frequency(), match(), T0);
    applyAction(inc, 'acknowledge', 'dana', T0 - 5_000);
    applyAction(inc, 'resolve', 'dana', T0 - 4_000);
    expect(inc.time_to_acknowledge_seconds).toBe(0);
    expect(inc.time_to_resolve_seconds).toBe(0);
  });

  it('the timeline keeps the detection and the latest 199 entries', () => {
    const rule = frequency({ realert: '0s' });
    const inc = openIncident(rule, match(), T0);
    for (let i = 1; i <= 150; i++) {
      applyAction(inc, 'resolve', 'dana', T0 + i * 2000);
      recordMatch(inc, rule, match({ summary: `again ${i}` }), { count: 1, last: T0 + i * 2000 + 1000 }, T0 + i * 2000 + 1000);
    }
    expect(inc.timeline).toHaveLength(200);
    expect(inc.timeline[0].stage).toBe('detected');
    expect(inc.timeline.at(-1)).toMatchObject({ stage: 'reopened', note: 'again 150' });
    // 301 entries were written: the 102 after the detection went, oldest first.
    expect(inc.timeline[1]).toMatchObject({ stage: 'reopened', note: 'again 51' });
    expect(inc.timeline[2]).toMatchObject({ stage: 'resolved', at: iso(T0 + 52 * 2000) });
    expect(inc).toMatchObject({ reopen_count: 150, fire_count: 151 });
  });
});
