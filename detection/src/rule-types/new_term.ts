import { z } from 'zod';
import { field, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, formatDuration, toMatch } from '../rule-type.js';
import { groupKeyText } from '../incident.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('new_term'), fields: z.array(field()).min(1), window: window().default(60_000), lookback: window().default(7 * 86_400_000) });

export const new_term = defineRuleType<z.output<typeof schema>>({
  type: 'new_term',
  schema,
  aliases: { terms_window_size: 'lookback' },
  countsEvents: true,
  perTemplate: false,
  urgency: 'always',
  horizon: (spec) => spec.lookback,
  lateEvents: { window: (spec) => spec.window, slides: false },
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const groupBy = [...spec.group_by, ...spec.fields];
    // The candidates are the terms of the window (few); then one look at the lookback before
    // the window for exactly those. Listing every term of the lookback instead would cut off
    // at the source's group limit and miss new terms on a field with many values.
    const recent = (await source.groups(rule, { from: now - spec.window, to: now + 1, groupBy, byTemplate: false })).filter((g) => spec.fields.every((f) => g.key[f] !== null));
    if (recent.length === 0) return [];
    const seenBefore = await source.groups(rule, { from: now - spec.lookback, to: now - spec.window, groupBy, byTemplate: false, keys: recent.map((g) => g.key) });
    const old = new Set(seenBefore.map((g) => JSON.stringify(groupBy.map((f) => g.key[f] ?? null))));
    return recent
      .filter((g) => !old.has(JSON.stringify(groupBy.map((f) => g.key[f] ?? null))))
      .map((g) => {
        // The term as a group key is written ("pos.sku=999, pos.store_id=S1"), its fields in rule order.
        const term = groupKeyText(Object.fromEntries(spec.fields.map((f) => [f, g.key[f]])));
        return {
          ...toMatch(g, `new value of ${spec.fields.join(', ')}`, `first seen ${new Date(g.first).toISOString()}: ${term} (not seen in the ${formatDuration(spec.lookback)} before)`, term),
          samples: undefined,
          sampleRange: { from: now - spec.window, to: now + 1 },
        };
      });
  },
  triageHints: { eventTemplate: false },
  semantics:
    'A value (or combination, for several `fields`) first seen within `window` that did not occur in the `lookback` (7d) before it, per group; events missing a field are ignored. The incident records the term\'s first appearance. ' +
    'ElastAlert2 learns the terms of `terms_window_size` (30d, accepted here as an alias of lookback) once at start and then remembers every term it sees until it restarts, so a term seen before start never alerts; StackLens asks Elasticsearch each time, so a term is new when it is absent from the sliding lookback — the same answer after a restart, on every collector, and offline. A term that returns after the lookback matches again, but its existing incident (same fingerprint) is not reopened.',
});
