import { z } from 'zod';
import { field, RULE_COMMON, window } from '../rule-common.js';
import type { FilterSpec } from '../filter.js';
import { defineRuleType, eventsPerTemplate, formatDuration, plural } from '../rule-type.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('whitelist'), compare_key: field(), whitelist: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), ignore_null: z.boolean().default(true), window: window().default(60_000) });

export const whitelist = defineRuleType<z.output<typeof schema>>({
  type: 'whitelist',
  schema,
  countsEvents: true,
  perTemplate: true,
  urgency: 'new_group',
  horizon: (spec) => spec.window,
  lateEvents: { window: (spec) => spec.window, slides: false },
  ruleFilters(spec): FilterSpec[] {
    const notListed = { terms: { [spec.compare_key]: spec.whitelist } };
    // ignore_null: an event without the field is not a match (ElastAlert2: "if term is None: return not ignore_null").
    return [{ query: { bool: { must_not: [notListed], ...(spec.ignore_null ? { filter: [{ exists: { field: spec.compare_key } }] } : {}) } } }];
  },
  evaluate: (rule, now, source) => eventsPerTemplate(rule, now, source, (n) => `${plural(n, 'event')} in ${formatDuration(rule.spec.window)} with ${rule.spec.compare_key} not in the whitelist`),
  triageHints: { eventTemplate: true },
  semantics:
    'Every event whose `compare_key` has a value not in `whitelist` is a match; with `ignore_null` (default true) an event without the field is not — `any` narrowed to those events: one incident per group and message template. The comparison is an Elasticsearch terms query (exact on keyword fields; use a keyword field, not analysed text); a field with several values matches only if none of them is listed. ' +
    'ElastAlert2 requires ignore_null (StackLens defaults it to true), compares one value in Python (type-sensitive), and can read the list from files ("!file /path"); StackLens takes the values in the rule file only.',
});
