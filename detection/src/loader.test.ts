import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from './loader.js';
import { compileFilter } from './filter.js';

const GOOD = `name: pos-missing-price
severity: critical
dataset: pos
filter:
  error.type: MISSING_PRICE
type: frequency
threshold: 3
window: 1m
group_by: [pos.store_id]
realert: 10m
`;

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe('loadRules', () => {
  it('loads the issue\'s example shape with durations in milliseconds', () => {
    const { rules, errors } = loadRules(dir({ 'a.yml': GOOD }));
    expect(errors).toEqual([]);
    expect(rules[0].spec).toMatchObject({ name: 'pos-missing-price', type: 'frequency', threshold: 3, window: 60_000, realert: 600_000, group_by: ['pos.store_id'] });
    expect(rules[0].index).toBe('logs-pos-*');
  });

  it('names file, line and key for a bad file, and keeps loading the others', () => {
    const d = dir({ 'a.yml': GOOD, 'b.yml': GOOD.replace('pos-missing-price', 'second').replace('threshold: 3', 'threshold: lots'), 'c.yml': 'name: x\n  bad: [yaml' });
    const { rules, errors } = loadRules(d);
    expect(rules.map((r) => r.spec.name)).toEqual(['pos-missing-price']);
    expect(errors[0].message).toBe(`${join(d, 'b.yml')}:7: threshold: Invalid input: expected number, received string`);
    expect(errors[1].message).toMatch(new RegExp(`^${join(d, 'c.yml')}:\\d+: invalid YAML`));
  });

  it('rejects an unknown type, an unknown key, a missing parameter and a duplicate name', () => {
    const d = dir({
      'a.yml': GOOD,
      'b.yml': GOOD.replace('pos-missing-price', 'b').replace('type: frequency', 'type: sometimes'),
      'c.yml': GOOD.replace('pos-missing-price', 'c').replace('realert: 10m', 'realert: 10m\nthreshhold: 4'),
      'd.yml': GOOD.replace('pos-missing-price', 'd').replace('threshold: 3\n', ''),
      'e.yml': GOOD,
    });
    const messages = loadRules(d).errors.map((e) => e.message.slice(d.length + 1));
    expect(messages[0]).toMatch(/^b\.yml:6: type: must be one of any, frequency, spike/);
    expect(messages[1]).toBe('c.yml:11: (top level): unknown key "threshhold"');
    expect(messages[2]).toBe('d.yml:1: threshold: is required (number)');
    expect(messages[3]).toMatch(/^e\.yml: name: "pos-missing-price" is already used by .*a\.yml$/);
  });

  it('keeps the last good version of a file that became invalid', () => {
    const d = dir({ 'a.yml': GOOD });
    const first = loadRules(d);
    writeFileSync(join(d, 'a.yml'), GOOD.replace('severity: critical', 'severity: urgent'));
    const second = loadRules(d, first.rules);
    expect(second.rules).toEqual(first.rules);
    expect(second.errors[0]).toMatchObject({ keptPrevious: true });
    expect(second.errors[0].message).toMatch(/a\.yml:2: severity:/);
  });
});

describe('compileFilter', () => {
  it('turns field: value and field: [list] into term/terms and the same predicate', () => {
    const f = compileFilter({ 'error.type': 'MISSING_PRICE', 'pos.store_id': ['STORE_001', 'STORE_002'] });
    expect(f.clauses).toEqual([{ term: { 'error.type': 'MISSING_PRICE' } }, { terms: { 'pos.store_id': ['STORE_001', 'STORE_002'] } }]);
    expect(f.test({ error: { type: 'MISSING_PRICE' }, pos: { store_id: 'STORE_002' } })).toBe(true);
    expect(f.test({ error: { type: 'MISSING_PRICE' }, pos: { store_id: 'STORE_009' } })).toBe(false);
    expect(f.test({ pos: { store_id: 'STORE_001' } })).toBe(false);
  });

  it('evaluates common DSL queries and says which it cannot', () => {
    const f = compileFilter({ query: { bool: { must: [{ match_phrase: { message: 'timed out' } }], must_not: [{ range: { 'chatbot.response_time_ms': { lt: 100 } } }] } } });
    expect(f.test({ message: 'upstream model timed out after 20s', chatbot: { response_time_ms: 500 } })).toBe(true);
    expect(f.test({ message: 'upstream model timed out after 20s', chatbot: { response_time_ms: 50 } })).toBe(false);
    expect(f.test({ message: 'all good' })).toBe(false);
    const scripted = compileFilter({ query: { query_string: { query: 'error AND price' } } });
    expect(scripted.test({ message: 'x' })).toBeUndefined();
    expect(scripted.unsupported).toMatch(/query_string/);
  });
});
