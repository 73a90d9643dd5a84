// The keys every rule has, and the value shapes rule types build their own keys from. Rule
// types (rule-types/<type>.ts) combine `RULE_COMMON` with their own keys; schema.ts makes
// the union. Parameters follow ElastAlert2 where it has a name for them.
import { z } from 'zod';
import { parseDuration } from '@stacklens/common';

/**
 * What a rule's `notify:` may name: the collector's integrations that notify (their
 * descriptors, collector/src/integrations/descriptors; a collector test checks both lists
 * agree). `true`: `<target>:<channel>` too.
 */
export const NOTIFY_TARGETS: Readonly<Record<string, boolean>> = { jira: true, slack: true, mattermost: true, teams: false, email: true };
const NOTIFY_PATTERN = new RegExp(`^(${Object.entries(NOTIFY_TARGETS).map(([t, ch]) => (ch ? `${t}(:.+)?` : t)).join('|')})$`);
const NOTIFY_MESSAGE = `must be ${Object.keys(NOTIFY_TARGETS).join(', ')}, or <target>:<channel> for ${Object.keys(NOTIFY_TARGETS).filter((t) => NOTIFY_TARGETS[t]).join(', ')}`;

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** ElastAlert2 writes durations as Python timedelta keywords: `timeframe: {minutes: 5}`. */
const TIMEDELTA_MS: Record<string, number> = { weeks: 604_800_000, days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000, milliseconds: 1 };

/** A duration: 250ms, 5m, 1h, a number of milliseconds, or ElastAlert2's {minutes: 5}; as milliseconds. */
export const ruleDuration = () =>
  z.union([z.string(), z.number(), z.record(z.string(), z.number())]).transform((v, ctx) => {
    try {
      if (typeof v !== 'object') return parseDuration(v);
      const unknown = Object.keys(v).filter((k) => !(k in TIMEDELTA_MS));
      if (unknown.length || Object.keys(v).length === 0) throw new Error(`not a duration: use e.g. 5m, or {minutes: 5} (keys ${Object.keys(TIMEDELTA_MS).join(', ')})`);
      return Object.entries(v).reduce((ms, [k, n]) => ms + n * TIMEDELTA_MS[k], 0);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

export const field = () => z.string().regex(/^[A-Za-z0-9_@][A-Za-z0-9_.@-]*$/, 'must be a field name such as pos.store_id');
export const window = () => ruleDuration().refine((ms) => ms >= 1000, 'must be at least 1s');
export const count = () => z.number().int().min(0);

/** `field: value`, `field: [values]` (any of), or `query:` with Elasticsearch DSL; see filter.ts. */
export const filterSchema = z.record(z.string(), z.unknown()).superRefine((f, ctx) => {
  for (const [key, value] of Object.entries(f)) {
    if (key === 'query') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be an Elasticsearch query object, e.g. {match_phrase: {message: "timed out"}}' });
      }
      continue;
    }
    const ok = (v: unknown) => ['string', 'number', 'boolean'].includes(typeof v);
    if (!(ok(value) || (Array.isArray(value) && value.length > 0 && value.every(ok)))) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be a value or a list of values (or use "query:" for Elasticsearch DSL)' });
    }
  }
});

/** ElastAlert2's filter lists (`- term: {…}`), e.g. `match_bucket_filter`, as one of ours: every query must match. */
export const filterFromList = (v: unknown): unknown => (Array.isArray(v) ? { query: { bool: { must: v } } } : v);

export const RULE_COMMON = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'must be lowercase letters, digits, "-", "_" or "." (it names the rule in incidents)'),
  description: z.string().default(''),
  severity: z.enum(SEVERITIES),
  /** Which data streams: logs-<dataset>-<namespace>; or an explicit index pattern. */
  dataset: z.string().regex(/^[a-z0-9_.*]{1,100}$/, 'must be a dataset name such as pos').optional(),
  namespace: z.string().regex(/^[a-z0-9_*]{1,100}$/, 'must be a namespace such as default').default('*'),
  index: z.string().min(1).optional(),
  filter: filterSchema.default({}),
  group_by: z.union([field(), z.array(field())]).default([]).transform((g) => (Array.isArray(g) ? g : [g])),
  realert: ruleDuration().default(60_000),
  /** Resolve the incident automatically after this long without a new match (0 = never). */
  auto_resolve: ruleDuration().default(3_600_000),
  /** Scheduled evaluation period (event-triggered evaluation happens as events arrive). */
  run_every: ruleDuration().optional(),
  runbook: z.string().default(''),
  labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  notify: z.array(z.string().regex(NOTIFY_PATTERN, NOTIFY_MESSAGE)).default([]),
  enabled: z.boolean().default(true),
};

/** ElastAlert2's names for common keys, read as ours. */
export const COMMON_ALIASES: Record<string, string> = { query_key: 'group_by' };
