import { describe, expect, it } from 'vitest';
import { buildRule, ruleSchema } from '../index.js';
import { RuleDispatch } from './dispatch.js';

const rule = (name: string, extra: Record<string, unknown>) => buildRule(ruleSchema.parse({ name, severity: 'low', dataset: 'pos', type: 'any', ...extra }), `${name}.yml`);

describe('RuleDispatch', () => {
  const price = rule('price', { filter: { 'error.type': 'MISSING_PRICE' } });
  const levels = rule('levels', { filter: { 'log.level': ['error', 'critical'], 'pos.store_id': 'STORE_001' } });
  const dsl = rule('dsl', { filter: { query: { match_phrase: { message: 'no price' } } } });
  const chat = buildRule(ruleSchema.parse({ name: 'chat', severity: 'low', dataset: 'chatbot', type: 'any', filter: { 'error.type': 'MISSING_PRICE' } }), 'chat.yml');
  const d = new RuleDispatch([price, levels, dsl, chat]);

  it('returns exactly the rules whose filter and index an event passes', () => {
    const doc = { message: 'Product #9 has no price', error: { type: 'MISSING_PRICE' }, log: { level: 'critical' }, pos: { store_id: 'STORE_001' } };
    expect(d.matching('logs-pos-default', doc).map((r) => r.spec.name).sort()).toEqual(['dsl', 'levels', 'price']);
    expect(d.matching('logs-pos-default', { ...doc, pos: { store_id: 'STORE_002' } }).map((r) => r.spec.name).sort()).toEqual(['dsl', 'price']);
    expect(d.matching('logs-chatbot-default', doc).map((r) => r.spec.name)).toEqual(['chat']);
    expect(d.matching('logs-pos-default', { message: 'Order completed', log: { level: 'info' } })).toEqual([]);
  });
});
