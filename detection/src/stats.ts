// What a rule type asks of the data: per group (group_by values, optionally the message
// template) within a time range — counts, distinct values, a metric, the latest values,
// a few sample events. Two sources answer it: Elasticsearch (live, fleet-wide) and memory
// (offline replays). Rule types decide only; they never query directly.
import type { CompiledFilter } from './filter.js';
import type { Rule } from './rule.js';

/** Any rule: a source reads only what every rule has. */
export type SourceRule = Rule<{ name: string }>;

/**
 * The field rules group events by message template in: the template's id (set by the
 * collector at ingest, template-catalog.ts). The id stays when the template's text
 * generalizes, so one kind of message stays one incident.
 */
export const TEMPLATE_FIELD = 'stacklens.template_id';
/** The template's text as it was when the event was indexed (for people, not for grouping). */
export const TEMPLATE_TEXT_FIELD = 'stacklens.message_template';

export type GroupKey = Record<string, string | number | boolean | null>;

export interface GroupQuery {
  /** Time range on @timestamp, [from, to) in epoch ms. */
  from: number;
  to: number;
  groupBy: string[];
  /** Group by the message template too (one incident per template). */
  byTemplate: boolean;
  /** Named counts over sub-ranges (and optionally an extra filter) within each group. */
  counts?: Record<string, { from: number; to: number; filter?: CompiledFilter }>;
  /** Distinct values of this field per group. */
  cardinality?: string;
  metric?: { field: string; op: 'avg' | 'min' | 'max' | 'sum' | 'percentile'; percentile?: number };
  /** The latest N events of each group, newest first. */
  samples?: number;
  /** The latest N values of a field per group, newest first (events without it skipped). */
  lastValues?: { field: string; n: number };
  /** Only these groups (their groupBy values; null = the field is missing). */
  keys?: GroupKey[];
}

export interface GroupStats {
  key: GroupKey;
  template?: string;
  count: number;
  /** Times of the group's first and last event in the range (epoch ms). */
  first: number;
  last: number;
  counts: Record<string, number>;
  cardinality?: number;
  metric?: number | null;
  samples: Record<string, unknown>[];
  lastValues?: { value: unknown; at: number }[];
}

export interface StatsSource {
  groups(rule: SourceRule, q: GroupQuery): Promise<GroupStats[]>;
  /** The newest `n` matching events of one group in [from, to] (fetched only for matches that change an incident). */
  samples(rule: SourceRule, key: GroupKey, template: string | undefined, from: number, to: number, n: number): Promise<Record<string, unknown>[]>;
  /** Matching events of one group with @timestamp in (after, to]: what a recurrence adds to an incident. */
  countSince(rule: SourceRule, key: GroupKey, template: string | undefined, after: number, to: number): Promise<{ count: number; last: number }>;
}
