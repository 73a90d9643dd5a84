import { z } from 'zod';
import { count, field, RULE_COMMON, window } from '../rule-common.js';
import { beyond, defineRuleType, formatDuration, SAMPLES, toMatch, type Match } from '../rule-type.js';

const schema = z
  .strictObject({
    ...RULE_COMMON,
    type: z.literal('metric_aggregation'),
    field: field(),
    metric: z.enum(['avg', 'min', 'max', 'sum', 'percentile']),
    percentile: z.number().gt(0).lt(100).optional(),
    max_threshold: z.number().optional(),
    min_threshold: z.number().optional(),
    min_doc_count: count().min(1).default(1),
    window: window(),
  })
  .refine((r) => r.max_threshold !== undefined || r.min_threshold !== undefined, { message: 'needs max_threshold or min_threshold', path: ['max_threshold'] })
  .refine((r) => r.metric !== 'percentile' || r.percentile !== undefined, { message: 'metric percentile needs percentile: (e.g. 95)', path: ['percentile'] });

export const metric_aggregation = defineRuleType<z.output<typeof schema>>({
  type: 'metric_aggregation',
  schema,
  aliases: {
    metric_agg_key: 'field',
    metric_agg_type: { key: 'metric', value: (v) => (v === 'percentiles' ? 'percentile' : v) },
    percentile_range: 'percentile',
    buffer_time: 'window',
  },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  horizon: (spec) => spec.window,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const groups = await source.groups(rule, {
      from: now - spec.window,
      to: now + 1,
      groupBy: spec.group_by,
      byTemplate: false,
      metric: { field: spec.field, op: spec.metric, percentile: spec.percentile },
      samples: SAMPLES,
    });
    const name = spec.metric === 'percentile' ? `p${spec.percentile}` : spec.metric;
    const out: Match[] = [];
    for (const g of groups) {
      const v = g.metric;
      if (v === null || v === undefined || g.count < spec.min_doc_count) continue;
      const limit = beyond(v, spec.max_threshold, spec.min_threshold);
      if (!limit) continue;
      const value = Number(v.toFixed(3));
      out.push(toMatch(g, `${name}(${spec.field}) ${limit}`, `${name}(${spec.field}) = ${value} over ${g.count} events in ${formatDuration(spec.window)} (${limit})`, value));
    }
    return out;
  },
  triageHints: { eventTemplate: false },
  semantics:
    'avg, min, max, sum or a percentile of a numeric `field` over the events of `window`, per group with at least `min_doc_count` events, above `max_threshold` or below `min_threshold`. ' +
    'ElastAlert2 aggregates over buffer_time (accepted as an alias of window), optionally in bucket_interval slices, and also offers cardinality and value_count (StackLens has the cardinality type for the first). A field Elasticsearch cannot aggregate (a keyword) fails every evaluation: GET /api/rules shows the rule as failing, with the reason.',
});
