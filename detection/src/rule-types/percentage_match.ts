import { z } from 'zod';
import { compileFilter, type CompiledFilter } from '../filter.js';
import { count, filterFromList, filterSchema, RULE_COMMON, window } from '../rule-common.js';
import { beyond, defineRuleType, formatDuration, SAMPLES, toMatch, type Match } from '../rule-type.js';
import type { Rule } from '../rule.js';

const schema = z
  .strictObject({
    ...RULE_COMMON,
    type: z.literal('percentage_match'),
    match_filter: filterSchema,
    max_percentage: z.number().min(0).max(100).optional(),
    min_percentage: z.number().min(0).max(100).optional(),
    min_denominator: count().default(10),
    window: window(),
  })
  .refine((r) => r.max_percentage !== undefined || r.min_percentage !== undefined, { message: 'needs max_percentage or min_percentage', path: ['max_percentage'] });

const matchFilters = new WeakMap<Rule, CompiledFilter>();

export const percentage_match = defineRuleType<z.output<typeof schema>>({
  type: 'percentage_match',
  schema,
  aliases: { match_bucket_filter: { key: 'match_filter', value: filterFromList }, buffer_time: 'window' },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  horizon: (spec) => spec.window,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    let matchFilter = matchFilters.get(rule);
    if (!matchFilter) matchFilters.set(rule, (matchFilter = compileFilter(spec.match_filter)));
    const groups = await source.groups(rule, {
      from: now - spec.window,
      to: now + 1,
      groupBy: spec.group_by,
      byTemplate: false,
      counts: { match: { from: now - spec.window, to: now + 1, filter: matchFilter } },
      samples: SAMPLES,
    });
    const out: Match[] = [];
    for (const g of groups) {
      if (g.count < spec.min_denominator) continue;
      const pct = (100 * g.counts.match) / g.count;
      const limit = beyond(pct, spec.max_percentage, spec.min_percentage, '%');
      if (!limit) continue;
      const value = Number(pct.toFixed(2));
      out.push(toMatch(g, `matching share ${limit}`, `${g.counts.match} of ${g.count} events (${value}%) in ${formatDuration(spec.window)} (${limit})`, value, g.counts.match));
    }
    return out;
  },
  otherFilters: (spec) => ({ match_filter: spec.match_filter }),
  triageHints: { eventTemplate: false },
  semantics:
    'Of the events passing `filter` within `window`, per group, the share that also match `match_filter`, above `max_percentage` or below `min_percentage` — once the group has at least `min_denominator` events. ' +
    'ElastAlert2 calls the filter match_bucket_filter (a list of queries, accepted here as an alias) and defaults min_denominator to 0; StackLens defaults it to 10, so 1 failure in 1 payment is not "100% failing".',
});
