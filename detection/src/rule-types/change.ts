import { z } from 'zod';
import { field, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, toMatch, type Match } from '../rule-type.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('change'), compare_key: field(), ignore_null: z.boolean().default(true), window: window().default(60_000), lookback: window().default(86_400_000) });

export const change = defineRuleType<z.output<typeof schema>>({
  type: 'change',
  schema,
  aliases: { timeframe: 'window' },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  horizon: (spec) => spec.lookback,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const groups = await source.groups(rule, { from: now - spec.lookback, to: now + 1, groupBy: spec.group_by, byTemplate: false, lastValues: { field: spec.compare_key, n: 2 }, samples: 2 });
    const out: Match[] = [];
    for (const g of groups) {
      const [latest, previous] = g.lastValues ?? [];
      if (!latest || !previous || latest.at < now - spec.window) continue;
      if (spec.ignore_null && (latest.value === null || previous.value === null)) continue;
      if (JSON.stringify(latest.value) === JSON.stringify(previous.value)) continue;
      const change = `${JSON.stringify(previous.value)} → ${JSON.stringify(latest.value)}`;
      out.push(toMatch(g, `${spec.compare_key} changed`, `${spec.compare_key} changed ${change} at ${new Date(latest.at).toISOString()}`, change, 1));
    }
    return out;
  },
  triageHints: { eventTemplate: false },
  semantics:
    'The latest value of `compare_key` in a group differs from the one before it, the latest written within `window`; the two are looked for in the `lookback` (1d). ' +
    'ElastAlert2 remembers the last value per query_key in memory since it started (a restart forgets it) and reads timeframe as the longest time between the two values; StackLens reads both from Elasticsearch each time, so restarts and other collectors agree.',
});
