import { z } from 'zod';
import { count, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, formatDuration, plural, type Match } from '../rule-type.js';
import type { GroupKey, GroupStats } from '../stats.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('frequency'), threshold: count().min(1), window: window() });

interface Group {
  key: GroupKey;
  count: number;
  first: number;
  last: number;
  /** Events per message template, and when each was first seen. */
  templates: Map<string, { count: number; first: number }>;
}

export const frequency = defineRuleType<z.output<typeof schema>>({
  type: 'frequency',
  schema,
  aliases: { num_events: 'threshold', timeframe: 'window' },
  countsEvents: true,
  perTemplate: false,
  urgency: 'new_group',
  horizon: (spec) => spec.window,
  lateEvents: { window: (spec) => spec.window, slides: true },
  async evaluate(rule, now, source) {
    const { window, threshold, group_by } = rule.spec;
    const from = now - window;
    // By template too, to name the incident after its commonest kind of event; the threshold
    // applies to the group. No samples here: most groups in a busy window are not news.
    const rows = await source.groups(rule, { from, to: now + 1, groupBy: group_by, byTemplate: true });
    return perGroup(rows, group_by)
      .filter((g) => g.count >= threshold)
      .map((g): Match => ({
        key: g.key,
        template: '',
        messageTemplate: commonest(g.templates),
        scope: 'group',
        count: g.count,
        first: g.first,
        last: g.last,
        summary: `${plural(g.count, 'event')} in ${formatDuration(window)} (threshold ${threshold})${g.templates.size > 1 ? ` across ${g.templates.size} message templates` : ''}`,
        sampleRange: { from, to: now + 1 },
      }));
  },
  triageHints: { eventTemplate: true },
  semantics:
    'At least `threshold` events pass the filter within `window`, counted per group (group_by, ElastAlert2\'s query_key): one incident per group, whatever mix of message templates its events have (3 PRODUCT_NOT_FOUND and 3 INVENTORY_SHORTAGE in a store reach a threshold of 5). Without group_by every event counts toward one incident; to count each kind of message on its own, add `stacklens.template_id` to group_by. ' +
    'The incident is named after the commonest message template among the events that opened it. ElastAlert2 counts the same way but re-alerts every realert period while the key keeps matching; StackLens keeps one incident and counts the recurrences into it.',
});

/** The per-template rows of each group, added up. */
function perGroup(rows: GroupStats[], groupBy: string[]): Group[] {
  const groups = new Map<string, Group>();
  for (const r of rows) {
    const id = JSON.stringify(groupBy.map((f) => r.key[f] ?? null));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key: r.key, count: 0, first: r.first, last: r.last, templates: new Map() }));
    g.count += r.count;
    g.first = Math.min(g.first, r.first);
    g.last = Math.max(g.last, r.last);
    g.templates.set(r.template ?? '', { count: r.count, first: r.first });
  }
  return [...groups.values()];
}

/** The template with the most events; ties go to the one seen first, then to the smaller text (the same answer from every source). */
function commonest(templates: Map<string, { count: number; first: number }>): string {
  let best: [string, { count: number; first: number }] | undefined;
  for (const entry of templates) {
    const [t, s] = entry;
    if (!best || s.count > best[1].count || (s.count === best[1].count && (s.first < best[1].first || (s.first === best[1].first && t < best[0])))) best = entry;
  }
  return best?.[0] ?? '';
}
