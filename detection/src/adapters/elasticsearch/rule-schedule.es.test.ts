// Scheduled slots against the real Elasticsearch: claimed once across collectors, and
// the slots missed while no collector ran are handed back for evaluation (e2e tier: *.es.test.ts).
import { describe, expect, inject, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { installTemplates } from '@stacklens/elasticsearch';
import { buildRule, ruleSchema } from '../../index.js';
import { claimSlot } from './rule-schedule.js';

const es = new Client({ node: inject('esUrl') });

describe('claimSlot', () => {
  it('gives each slot to one claimant and catches up missed slots after a gap', async () => {
    await installTemplates(es);
    const ns = `slot${Date.now().toString(36)}`;
    const rule = buildRule(ruleSchema.parse({ name: 'slot-test', severity: 'low', dataset: 'pos', namespace: ns, type: 'any', run_every: '10s' }), 'slot.yml');
    const t = Math.floor(Date.now() / 10_000) * 10_000 + 1000;
    const [a, b] = await Promise.all([claimSlot(es, rule, t, 'a'), claimSlot(es, rule, t, 'b')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect((a ?? b)!.times).toEqual([t]);
    expect(await claimSlot(es, rule, t + 5000, 'a')).toBeUndefined(); // same slot

    // No collector ran for 4 slots: the next claim evaluates at each missed slot end, then now.
    const later = t + 50_000;
    const caught = await claimSlot(es, rule, later, 'b');
    expect(caught!.times).toEqual([t + 19_000, t + 29_000, t + 39_000, t + 49_000, later]);
  });
});
