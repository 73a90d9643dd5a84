import { z } from 'zod';
import { RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, eventsPerTemplate, formatDuration, plural } from '../rule-type.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('any'), window: window().default(60_000) });

export const any = defineRuleType<z.output<typeof schema>>({
  type: 'any',
  schema,
  countsEvents: true,
  perTemplate: true,
  urgency: 'new_group',
  horizon: (spec) => spec.window,
  lateEvents: { window: (spec) => spec.window, slides: false },
  evaluate: (rule, now, source) => eventsPerTemplate(rule, now, source, (n) => `${plural(n, 'event')} in ${formatDuration(rule.spec.window)}`),
  triageHints: { eventTemplate: true },
  semantics:
    'Every event that passes the filter is a match; the matches of one group (group_by) and message template are one incident, so "Product #999 has no price" and "Product #1001 has no price" in one store are one incident and a thousand more update its count. ' +
    'ElastAlert2 alerts on every hit, aggregated only by realert per query_key; StackLens keeps one incident per group and template and notifies when it opens (and reopens after resolve).',
});
