import { describe, expect, it } from 'vitest';
import { describeError, RuleHealth } from './rule-health.js';
import { ruleFrom } from './memory-evaluate.js';

const T = Date.parse('2026-03-02T10:00:00Z');

describe('RuleHealth', () => {
  it('not_evaluated, then failing with the last error and since when, then ok again', () => {
    const h = new RuleHealth();
    const rule = ruleFrom({ type: 'metric_aggregation', field: 'pos.store_id', metric: 'avg', max_threshold: 1, window: '1m' });
    expect(h.of(rule)).toEqual({ state: 'not_evaluated' });
    h.failed(rule, new Error('first'), T);
    h.failed(rule, new Error('second'), T + 1000);
    expect(h.of(rule)).toEqual({ state: 'failing', last_evaluated_at: '2026-03-02T10:00:01.000Z', error: 'second', failing_since: '2026-03-02T10:00:00.000Z', failures: 2 });
    h.succeeded(rule, T + 2000);
    expect(h.of(rule)).toEqual({ state: 'ok', last_evaluated_at: '2026-03-02T10:00:02.000Z' });
  });

  it('an edited rule starts afresh; a removed one is forgotten', () => {
    const h = new RuleHealth();
    const rule = ruleFrom({ type: 'metric_aggregation', field: 'pos.store_id', metric: 'avg', max_threshold: 1, window: '1m' });
    h.failed(rule, new Error('boom'), T);
    expect(h.of(ruleFrom({ type: 'metric_aggregation', field: 'pos.total', metric: 'avg', max_threshold: 1, window: '1m' }))).toEqual({ state: 'not_evaluated' });
    h.retain([]);
    expect(h.of(rule)).toEqual({ state: 'not_evaluated' });
  });

  it("tells Elasticsearch's reason in one line", () => {
    const err = Object.assign(new Error('search_phase_execution_exception\n\tRoot causes:\n\t\tillegal_argument_exception: …'), {
      meta: { body: { error: { type: 'search_phase_execution_exception', root_cause: [{ type: 'illegal_argument_exception', reason: 'Field [pos.store_id] of type [keyword] is not supported for aggregation [avg]' }] } } },
    });
    expect(describeError(err)).toBe('illegal_argument_exception: Field [pos.store_id] of type [keyword] is not supported for aggregation [avg]');
    expect(describeError(new Error('socket hang up\n  at x'))).toBe('socket hang up at x');
  });
});
