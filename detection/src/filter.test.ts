// The offline filter evaluator without Elasticsearch: the regressions of issue #12 item 8
// ("offline and live rules disagree"). test/rules-offline-live.e2e.test.ts checks every
// query type against a real Elasticsearch.
import { describe, expect, it } from 'vitest';
import { compileFilter } from './filter.js';
import { Replay } from './replay.js';
import { buildRule } from './rule.js';
import { ruleSchema } from './schema.js';

const matches = (query: Record<string, unknown>, docs: Record<string, unknown>[]) => {
  const f = compileFilter({ query });
  expect(f.unsupported).toBeUndefined();
  return docs.map((d) => f.test(d));
};

describe('offline filter evaluation', () => {
  it('match_phrase needs consecutive whole words: "authentication failure" is not "authentication failures"', () => {
    const messages = ['authentication failure', 'authentication failures', 'Authentication FAILURE for user', 'failure authentication', 'auth-failure', 'pre-authentication failure!'];
    expect(matches({ match_phrase: { message: 'authentication failure' } }, messages.map((message) => ({ message })))).toEqual([true, false, true, false, false, true]);
    // Two values of a field are not one phrase.
    expect(matches({ match_phrase: { message: 'authentication failure' } }, [{ message: ['authentication', 'failure'] }])).toEqual([false]);
  });

  it('term on a text field is one lowercased word; on a keyword field the exact, case-sensitive value', () => {
    expect(matches({ term: { message: 'failure' } }, [{ message: 'Authentication FAILURE' }, { message: 'failures' }])).toEqual([true, false]);
    expect(matches({ term: { message: 'FAILURE' } }, [{ message: 'Authentication FAILURE' }])).toEqual([false]);
    expect(matches({ term: { 'pos.store_id': 'STORE_001' } }, [{ pos: { store_id: 'STORE_001' } }, { pos: { store_id: 'store_001' } }, { 'pos.store_id': 'STORE_001' }])).toEqual([true, false, true]);
    // match on a keyword field is not analyzed either.
    expect(matches({ match: { 'pos.store_id': 'store 001' } }, [{ pos: { store_id: 'store 001' } }, { pos: { store_id: 'store_001' } }])).toEqual([true, false]);
  });

  it('refuses, naming the rule, what it cannot evaluate exactly; live evaluation leaves it to Elasticsearch', () => {
    const spec = ruleSchema.parse({ name: 'fuzzy-auth', severity: 'low', dataset: 'pos', type: 'any', filter: { 'log.level': 'error', query: { fuzzy: { message: 'failur' } } } });
    const rule = buildRule(spec, 'fuzzy-auth.yml');
    expect(() => new Replay([rule])).toThrow('rule fuzzy-auth (fuzzy-auth.yml): filter.query: query type "fuzzy" cannot be evaluated offline; `stacklens rules test` refuses it');
    // The term it can evaluate still rules events out; for the others it cannot say.
    expect(rule.filter.test({ log: { level: 'info' }, message: 'failure' })).toBe(false);
    expect(rule.filter.test({ log: { level: 'error' }, message: 'failure' })).toBeUndefined();
  });
});
