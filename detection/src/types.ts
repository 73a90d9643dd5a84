// Rule types: each one turns group statistics into matches. One place per type; the
// queries are answered by a StatsSource (Elasticsearch live, memory offline).
import { compileFilter } from './filter.js';
import type { Rule } from './rule.js';
import type { RuleOf, RuleType } from './schema.js';
import type { GroupKey, GroupStats, StatsSource } from './stats.js';

export interface Match {
  key: GroupKey;
  /** Message template of the matching events, or the condition for aggregate types. */
  template: string;
  /** Matching events in the evaluated window. */
  count: number;
  first: number;
  last: number;
  /** A few matching events, newest first; undefined = fetched later, only if the match changes an incident. */
  samples?: Record<string, unknown>[];
  /** For fetching samples later: the group's template filter (event types) and time range. */
  sampleRange?: { template?: string; from: number; to: number };
  /** What was measured, in words: "5 events in 1m (threshold 3)". */
  summary: string;
  /** The measured value for aggregate types (ratio, distinct count, metric, percentage). */
  value?: number | string;
}

export interface RuleTypeDefinition {
  /** Event types: the incident counts matching events. Aggregate types measure a condition. */
  countsEvents: boolean;
  evaluate(rule: Rule, now: number, source: StatsSource): Promise<Match[]>;
}

const SAMPLES = 3;

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const toMatch = (g: GroupStats, template: string, summary: string, value?: number | string, count = g.count): Match => ({
  key: g.key,
  template,
  count,
  first: g.first,
  last: g.last,
  samples: g.samples,
  summary,
  value,
});

function eventsInWindow(threshold: number) {
  return async (rule: Rule, now: number, source: StatsSource): Promise<Match[]> => {
    const spec = rule.spec as RuleOf<'frequency'> | RuleOf<'any'>;
    // No samples in the group query: a busy window has many groups and few of them are news.
    const from = now - spec.window;
    const groups = await source.groups(rule, { from, to: now + 1, groupBy: spec.group_by, byTemplate: true });
    const min = spec.type === 'frequency' ? spec.threshold : threshold;
    return groups
      .filter((g) => g.count >= min)
      .map((g) => ({
        ...toMatch(g, g.template ?? '', `${g.count} event${g.count === 1 ? '' : 's'} in ${formatDuration(spec.window)}${spec.type === 'frequency' ? ` (threshold ${min})` : ''}`),
        samples: undefined,
        sampleRange: { template: g.template, from, to: now + 1 },
      }));
  };
}

/** "above 3" / "below 5%" when the value is beyond a configured limit, else undefined. */
function beyond(value: number, max: number | undefined, min: number | undefined, unit = ''): string | undefined {
  if (max !== undefined && value > max) return `above ${max}${unit}`;
  if (min !== undefined && value < min) return `below ${min}${unit}`;
  return undefined;
}

const percentageFilters = new WeakMap<Rule, ReturnType<typeof compileFilter>>();

export const RULE_TYPES: Record<RuleType, RuleTypeDefinition> = {
  any: { countsEvents: true, evaluate: eventsInWindow(1) },
  frequency: { countsEvents: true, evaluate: eventsInWindow(1) },

  spike: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'spike'>;
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
  },

  flatline: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'flatline'>;
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
        .map((g) => toMatch(g, `fewer than ${spec.threshold} events in ${formatDuration(spec.window)}`, `${g.counts.cur} event${g.counts.cur === 1 ? '' : 's'} in the last ${formatDuration(spec.window)} (threshold ${spec.threshold}); last event at ${new Date(g.last).toISOString()}`, g.counts.cur, g.counts.cur));
    },
  },

  new_term: {
    countsEvents: true,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'new_term'>;
      const groups = await source.groups(rule, { from: now - spec.lookback, to: now + 1, groupBy: [...spec.group_by, ...spec.fields], byTemplate: false });
      return groups
        .filter((g) => spec.fields.every((f) => g.key[f] !== null) && g.first >= now - spec.window)
        .map((g) => {
          const term = spec.fields.map((f) => `${f}=${g.key[f]}`).join(', ');
          return {
            ...toMatch(g, `new value of ${spec.fields.join(', ')}`, `first seen ${new Date(g.first).toISOString()}: ${term} (not seen in the ${formatDuration(spec.lookback)} before)`, term),
            samples: undefined,
            sampleRange: { from: now - spec.window, to: now + 1 },
          };
        });
    },
  },

  cardinality: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'cardinality'>;
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
  },

  metric_aggregation: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'metric_aggregation'>;
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
  },

  change: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'change'>;
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
  },

  percentage_match: {
    countsEvents: false,
    async evaluate(rule, now, source) {
      const spec = rule.spec as RuleOf<'percentage_match'>;
      let matchFilter = percentageFilters.get(rule);
      if (!matchFilter) percentageFilters.set(rule, (matchFilter = compileFilter(spec.match_filter)));
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
  },
};
