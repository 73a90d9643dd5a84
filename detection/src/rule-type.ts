// What a rule type is: one descriptor per type in rule-types/<type>.ts, listed in
// rule-types/index.ts. Everything else — the rule file schema, loading, the engine's
// urgency, incident counting, offline replays, triage — reads the descriptor's fields and
// never a type's name. The queries are answered by a StatsSource (Elasticsearch live, memory
// offline); a type only decides.
import type { z } from 'zod';
import type { FilterSpec } from './filter.js';
import type { Rule } from './rule.js';
import type { GroupKey, GroupStats, StatsSource } from './stats.js';

export interface Match {
  key: GroupKey;
  /**
   * With the rule and the group key, what makes the match one incident: the message template
   * of the matching events (per-template types), or the condition (aggregate types), or ""
   * (one incident per group).
   */
  template: string;
  /** The incident's message_template when `template` is not the events' template (frequency: the group's commonest). */
  messageTemplate?: string;
  /** The text of the template id (messageTemplate ?? template), when no sample carries it (read by evaluate). */
  templateText?: string;
  /** Which events a recurrence adds to the incident (event types): those with `template` (default), or all of the group's. */
  scope?: 'template' | 'group';
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

export interface RuleTypeDescriptor<Spec = any> {
  type: string;
  /** The rule file format for this type: RULE_COMMON plus the type's own keys (zod, strict). */
  schema: z.ZodType<Spec>;
  /** ElastAlert2's names for this type's keys, read as ours (with a conversion when the value is written differently). */
  aliases?: Record<string, string | { key: string; value: (v: unknown) => unknown }>;
  /** Event types: the incident counts matching events (recurrences add the new ones). Aggregate types measure a condition. */
  countsEvents: boolean;
  /** One incident per message template within a group (the collector remembers groups by key and template). */
  perTemplate: boolean;
  /**
   * When an event that passes the rule's filter is evaluated: `always` at the next tick
   * (it may be a new term), `new_group` at the next tick if its group has not matched here
   * yet, else within a second with the routine touches; `never` — always routine.
   */
  urgency: 'always' | 'new_group' | 'never';
  /** How far back evaluation ever looks (what an offline replay keeps in memory). */
  horizon(spec: Spec): number;
  /**
   * Event types only: how events far from now in log time are evaluated at their own time
   * (engine/late-events.ts) — `window`, the log time one evaluation matches events in;
   * `slides`, evaluated at every second holding them (a count to a threshold: where the window
   * ends matters) rather than once per window-long span. Absent: such events are not evaluated
   * at their own time (aggregate types are about now).
   */
  lateEvents?: { window(spec: Spec): number; slides: boolean };
  evaluate(rule: Rule<Spec>, now: number, source: StatsSource): Promise<Match[]>;
  /** Conditions the type adds to the rule's `filter` (they narrow every query and the offline predicate). */
  ruleFilters?(spec: Spec): FilterSpec[];
  /** Further filters the type evaluates, by key (offline replays refuse a rule they cannot evaluate exactly). */
  otherFilters?(spec: Spec): Record<string, FilterSpec>;
  /** For triage: `eventTemplate` — the incident's message_template is its events' template (narrow the context to it). */
  triageHints: { eventTemplate: boolean };
  /** One paragraph: what it matches, and how it differs from ElastAlert2's type of that name. */
  semantics: string;
}

export type AnyRuleType = RuleTypeDescriptor<any>;

/** Identity function that checks a descriptor against its schema's spec type. */
export function defineRuleType<Spec>(d: RuleTypeDescriptor<Spec>): RuleTypeDescriptor<Spec> {
  return d;
}

export const SAMPLES = 3;

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const toMatch = (g: GroupStats, template: string, summary: string, value?: number | string, count = g.count): Match => ({
  key: g.key,
  template,
  count,
  first: g.first,
  last: g.last,
  samples: g.samples,
  summary,
  value,
});

/** "above 3" / "below 5%" when the value is beyond a configured limit, else undefined. */
export function beyond(value: number, max: number | undefined, min: number | undefined, unit = ''): string | undefined {
  if (max !== undefined && value > max) return `above ${max}${unit}`;
  if (min !== undefined && value < min) return `below ${min}${unit}`;
  return undefined;
}

/**
 * Every event that passes the rule's filter within the window: one match per group and
 * message template (any, blacklist, whitelist). No samples in the group query: a busy window
 * has many groups and few of them are news.
 */
export async function eventsPerTemplate(rule: Rule<{ name: string; window: number; group_by: string[] }>, now: number, source: StatsSource, describe: (n: number) => string): Promise<Match[]> {
  const { window, group_by } = rule.spec;
  const from = now - window;
  const groups = await source.groups(rule, { from, to: now + 1, groupBy: group_by, byTemplate: true });
  return groups.map((g) => ({
    ...toMatch(g, g.template ?? '', describe(g.count)),
    samples: undefined,
    sampleRange: { template: g.template, from, to: now + 1 },
  }));
}
