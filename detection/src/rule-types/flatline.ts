import { z } from 'zod';
import { count, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, formatDuration, plural, toMatch } from '../rule-type.js';

const schema = z.strictObject({ ...RULE_COMMON, type: z.literal('flatline'), threshold: count().min(1), window: window(), lookback: window().default(86_400_000) });

export const flatline = defineRuleType<z.output<typeof schema>>({
  type: 'flatline',
  schema,
  aliases: { timeframe: 'window' },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  horizon: (spec) => spec.lookback,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const groups = await source.groups(rule, {
      from: now - spec.lookback,
      to: now + 1,
      groupBy: spec.group_by,
      byTemplate: false,
      counts: { cur: { from: now - spec.window, to: now + 1 } },
      samples: 1,
    });
    // A group is watched once it has been seen for a whole window: a bot that never wrote
    // anything is unknown, not silent.
    return groups
      .filter((g) => g.counts.cur < spec.threshold && g.first <= now - spec.window)
      .map((g) => toMatch(g, `fewer than ${spec.threshold} events in ${formatDuration(spec.window)}`, `${plural(g.counts.cur, 'event')} in the last ${formatDuration(spec.window)} (threshold ${spec.threshold}); last event at ${new Date(g.last).toISOString()}`, g.counts.cur, g.counts.cur));
  },
  triageHints: { eventTemplate: false },
  semantics:
    'Fewer than `threshold` events within `window`, for a group that wrote events in the `lookback` (1d) before and has been seen for at least one window. ' +
    'A group never seen is unknown, not silent: with group_by this is ElastAlert2\'s behaviour (it tracks only keys it has seen), without group_by ElastAlert2 also alerts on a stream that never had an event, StackLens does not. A group silent for longer than `lookback` is forgotten: its incident stops matching and auto-resolves (ElastAlert2 keeps alerting until forget_keys) — choose a lookback longer than the outages you want to follow.',
});
