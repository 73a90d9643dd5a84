import { describe, expect, it } from 'vitest';
import { incidentsAt, matchesAt, ruleFrom, type HeldEvent, templateText } from '../memory-evaluate.js';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const ev = (secondsAgo: number, store: string, type: string, message: string): HeldEvent => ({ at: NOW - secondsAgo * 1000, doc: { message, pos: { store_id: store }, error: { type } } });

// One store, two kinds of error: 3 + 3 within ten minutes.
const mixed = [
  ev(500, 'STORE_001', 'PRODUCT_NOT_FOUND', 'Product #12 not found'),
  ev(400, 'STORE_001', 'PRODUCT_NOT_FOUND', 'Product #13 not found'),
  ev(300, 'STORE_001', 'PRODUCT_NOT_FOUND', 'Product #14 not found'),
  ev(250, 'STORE_001', 'INVENTORY_SHORTAGE', 'Insufficient stock for product 12 (requested 2, available 0)'),
  ev(200, 'STORE_001', 'INVENTORY_SHORTAGE', 'Insufficient stock for product 13 (requested 1, available 0)'),
  ev(100, 'STORE_001', 'INVENTORY_SHORTAGE', 'Insufficient stock for product 14 (requested 5, available 0)'),
  ev(100, 'STORE_002', 'PRODUCT_NOT_FOUND', 'Product #15 not found'),
];
const filter = { 'error.type': ['PRODUCT_NOT_FOUND', 'INVENTORY_SHORTAGE'] };

describe('frequency', () => {
  it('counts per group_by key, not per message template (ElastAlert2 query_key): 3 + 3 reach a threshold of 5', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 5, window: '10m', group_by: ['pos.store_id'] });
    const m = await matchesAt(rule, mixed, NOW);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { 'pos.store_id': 'STORE_001' }, count: 6, scope: 'group', summary: '6 events in 10m (threshold 5) across 2 message templates' });
    // Named after its commonest template (a tie: the one seen first).
    expect(templateText(m[0].messageTemplate!)).toBe('Product #<*> not found');
  });

  it('opens one incident per group, and recurrences of any template count into it', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 5, window: '10m', group_by: ['pos.store_id'] });
    const later = [...mixed, ev(-30, 'STORE_001', 'PRODUCT_NOT_FOUND', 'Product #16 not found'), ev(-40, 'STORE_001', 'INVENTORY_SHORTAGE', 'Insufficient stock for product 16 (requested 1, available 0)')];
    const incidents = await incidentsAt(rule, later, [NOW, NOW + 60_000]);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ group_key: 'pos.store_id=STORE_001', message_template: 'Product #<*> not found', count: 8, occurrences: 2, status: 'open' });
    expect(incidents[0].samples.map((x) => (x.error as { type: string }).type)).toEqual(['INVENTORY_SHORTAGE', 'PRODUCT_NOT_FOUND', 'INVENTORY_SHORTAGE', 'INVENTORY_SHORTAGE', 'INVENTORY_SHORTAGE']);
  });

  it('below the threshold in every group: nothing', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 7, window: '10m', group_by: ['pos.store_id'] });
    expect(await matchesAt(rule, mixed, NOW)).toEqual([]);
  });

  it('without group_by, every event counts toward one incident', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 7, window: '10m' });
    const m = await matchesAt(rule, mixed, NOW);
    expect(m.map((x) => [x.key, x.count])).toEqual([[{}, 7]]);
  });

  it('per message template when the template is a group_by field', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 3, window: '10m', group_by: ['pos.store_id', 'stacklens.template_id'] });
    const m = await matchesAt(rule, mixed, NOW);
    expect(m.map((x) => [templateText(String(x.key['stacklens.template_id'])), x.count]).sort()).toEqual([
      ['Insufficient stock for product <num> (requested <num>, available <num>)', 3],
      ['Product #<*> not found', 3],
    ]);
  });

  it('counts only the window', async () => {
    const rule = ruleFrom({ type: 'frequency', filter, threshold: 3, window: '5m', group_by: ['pos.store_id'] });
    expect((await matchesAt(rule, mixed, NOW)).map((x) => x.count)).toEqual([4]);
  });
});
