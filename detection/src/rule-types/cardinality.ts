import { z } from 'zod';
import { count, field, RULE_COMMON, window } from '../rule-common.js';
import { beyond, defineRuleType, formatDuration, SAMPLES, toMatch, type Match } from '../rule-type.js';

const schema = z
  .strictObject({ ...RULE_COMMON, type: z.literal('cardinality'), field: field(), max_cardinality: count().optional(), min_cardinality: count().optional(), window: window() })
  .refine((r) => r.max_cardinality !== undefined || r.min_cardinality !== undefined, { message: 'needs max_cardinality or min_cardinality', path: ['max_cardinality'] });

export const cardinality = defineRuleType<z.output<typeof schema>>({
  type: 'cardinality',
  schema,
  aliases: { cardinality_field: 'field', timeframe: 'window' },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  horizon: (spec) => spec.window,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const groups = await source.groups(rule, { from: now - spec.window, to: now + 1, groupBy: spec.group_by, byTemplate: false, cardinality: spec.field, samples: SAMPLES });
    const out: Match[] = [];
    for (const g of groups) {
      const n = g.cardinality ?? 0;
      const limit = beyond(n, spec.max_cardinality, spec.min_cardinality);
      if (!limit) continue;
      out.push(toMatch(g, `distinct ${spec.field} ${limit}`, `${n} distinct ${spec.field} in ${formatDuration(spec.window)} (${limit})`, n));
    }
    return out;
  },
  triageHints: { eventTemplate: false },
  semantics:
    'The number of distinct values of `field` within `window`, per group, above `max_cardinality` or below `min_cardinality`; a group with no events in the window is not measured. ' +
    'Elasticsearch counts distinct values approximately above 3,000 (cardinality aggregation, precision_threshold 3000); ElastAlert2 counts exactly in memory over the events it fetched, and checks min_cardinality only once a whole timeframe has passed since it started.',
});
