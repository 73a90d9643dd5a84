import { z } from 'zod';
import { field, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, eventsPerTemplate, formatDuration, plural } from '../rule-type.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('blacklist'), compare_key: field(), blacklist: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), window: window().default(60_000) });

export const blacklist = defineRuleType<z.output<typeof schema>>({
  type: 'blacklist',
  schema,
  countsEvents: true,
  perTemplate: true,
  urgency: 'new_group',
  horizon: (spec) => spec.window,
  lateEvents: { window: (spec) => spec.window, slides: false },
  ruleFilters: (spec) => [{ [spec.compare_key]: spec.blacklist }],
  evaluate: (rule, now, source) => eventsPerTemplate(rule, now, source, (n) => `${plural(n, 'event')} in ${formatDuration(rule.spec.window)} with ${rule.spec.compare_key} in the blacklist`),
  triageHints: { eventTemplate: true },
  semantics:
    'Every event whose `compare_key` has a value in `blacklist` is a match — `any` narrowed to those values: one incident per group and message template. The comparison is an Elasticsearch terms query (exact on keyword fields, 42 matches "42"; use a keyword field, not analysed text). ' +
    'ElastAlert2 compares the value in Python (type-sensitive) and can read the list from files ("!file /path"); StackLens takes the values in the rule file only.',
});
