import { z } from 'zod';
import { count, RULE_COMMON, window } from '../rule-common.js';
import { defineRuleType, formatDuration, SAMPLES, toMatch, type Match } from '../rule-type.js';

const schema = z.strictObject({
  ...RULE_COMMON,
  type: z.literal('spike'),
  window: window(),
  spike_height: z.number().gt(1, 'must be greater than 1 (current/reference ratio)'),
  spike_type: z.enum(['up', 'down', 'both']).default('both'),
  threshold_ref: count().default(1),
  threshold_cur: count().default(1),
});

export const spike = defineRuleType<z.output<typeof schema>>({
  type: 'spike',
  schema,
  aliases: { timeframe: 'window' },
  countsEvents: false,
  perTemplate: false,
  urgency: 'never',
  // Four windows: the current one, the reference before it, and the baseline check.
  horizon: (spec) => 4 * spec.window,
  async evaluate(rule, now, source) {
    const spec = rule.spec;
    const w = spec.window;
    // Look back four windows: a group needs a baseline — first seen at least two windows
    // ago — before it can spike (ElastAlert's alert_on_new_data: false). Otherwise the
    // first minutes of any new store or fresh index would look like a spike.
    const groups = await source.groups(rule, {
      from: now - 4 * w,
      to: now + 1,
      groupBy: spec.group_by,
      byTemplate: false,
      counts: { ref: { from: now - 2 * w, to: now - w }, cur: { from: now - w, to: now + 1 } },
      samples: SAMPLES,
    });
    const out: Match[] = [];
    for (const g of groups) {
      const { ref, cur } = g.counts;
      if (g.first > now - 2 * w) continue;
      if (ref < spec.threshold_ref) continue;
      const up = spec.spike_type !== 'down' && cur >= spec.threshold_cur && cur >= ref * spec.spike_height;
      const down = spec.spike_type !== 'up' && cur * spec.spike_height <= ref;
      if (!up && !down) continue;
      const ratio = ref === 0 ? Infinity : cur / ref;
      const text = `${cur} events in the last ${formatDuration(w)} against ${ref} in the ${formatDuration(w)} before`;
      out.push(toMatch(g, up ? 'event rate spiked up' : 'event rate dropped', `${text} (×${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}, spike_height ${spec.spike_height})`, Number.isFinite(ratio) ? Number(ratio.toFixed(3)) : 'inf', cur));
    }
    return out;
  },
  triageHints: { eventTemplate: false },
  semantics:
    'The events of the last `window` against those of the window before, per group: up when current ≥ reference × spike_height (and ≥ threshold_cur), down when current × spike_height ≤ reference; the reference must be ≥ threshold_ref. ' +
    'A group needs a baseline — first seen at least two windows ago — as ElastAlert2 with alert_on_new_data: false. ElastAlert2 slides its two windows event by event; StackLens compares the two windows ending at each evaluation (event-triggered and every run_every), so a spike is seen within a tick of the event that makes it.',
});
