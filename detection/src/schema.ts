// The rule file format: one YAML file per rule, validated at load with errors naming the
// file, the line and the key. Parameters follow ElastAlert2 where it has a name for them.
import { z } from 'zod';
import { durationMs } from '@stacklens/common';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_TYPE_NAMES = ['any', 'frequency', 'spike', 'flatline', 'new_term', 'cardinality', 'metric_aggregation', 'change', 'percentage_match'] as const;
export type RuleType = (typeof RULE_TYPE_NAMES)[number];

const field = () => z.string().regex(/^[A-Za-z0-9_@][A-Za-z0-9_.@-]*$/, 'must be a field name such as pos.store_id');
const filterSchema = z
  .record(z.string(), z.unknown())
  .superRefine((f, ctx) => {
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

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'must be lowercase letters, digits, "-", "_" or "." (it names the rule in incidents)'),
  description: z.string().default(''),
  severity: z.enum(SEVERITIES),
  /** Which data streams: logs-<dataset>-<namespace>; or an explicit index pattern. */
  dataset: z.string().regex(/^[a-z0-9_.*]{1,100}$/, 'must be a dataset name such as pos').optional(),
  namespace: z.string().regex(/^[a-z0-9_*]{1,100}$/, 'must be a namespace such as default').default('*'),
  index: z.string().min(1).optional(),
  filter: filterSchema.default({}),
  group_by: z.union([field(), z.array(field())]).default([]).transform((g) => (Array.isArray(g) ? g : [g])),
  realert: durationMs().default(60_000),
  /** Resolve the incident automatically after this long without a new match (0 = never). */
  auto_resolve: durationMs().default(3_600_000),
  /** Scheduled evaluation period (event-triggered evaluation happens as events arrive). */
  run_every: durationMs().optional(),
  runbook: z.string().default(''),
  labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  notify: z.array(z.string().regex(/^(jira|slack|mattermost)(:.+)?$/, 'must be jira, slack, mattermost, or slack:<channel> / mattermost:<channel>')).default([]),
  enabled: z.boolean().default(true),
};

const window = () => durationMs().refine((ms) => ms >= 1000, 'must be at least 1s');
const count = () => z.number().int().min(0);

const types = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...common, type: z.literal('any'), window: window().default(60_000) }),
    z.strictObject({ ...common, type: z.literal('frequency'), threshold: count().min(1), window: window() }),
    z.strictObject({
      ...common,
      type: z.literal('spike'),
      window: window(),
      spike_height: z.number().gt(1, 'must be greater than 1 (current/reference ratio)'),
      spike_type: z.enum(['up', 'down', 'both']).default('both'),
      threshold_ref: count().default(1),
      threshold_cur: count().default(1),
    }),
    z.strictObject({ ...common, type: z.literal('flatline'), threshold: count().min(1), window: window(), lookback: window().default(86_400_000) }),
    z.strictObject({ ...common, type: z.literal('new_term'), fields: z.array(field()).min(1), window: window().default(60_000), lookback: window().default(7 * 86_400_000) }),
    z
      .strictObject({ ...common, type: z.literal('cardinality'), field: field(), max_cardinality: count().optional(), min_cardinality: count().optional(), window: window() })
      .refine((r) => r.max_cardinality !== undefined || r.min_cardinality !== undefined, { message: 'needs max_cardinality or min_cardinality', path: ['max_cardinality'] }),
    z
      .strictObject({
        ...common,
        type: z.literal('metric_aggregation'),
        field: field(),
        metric: z.enum(['avg', 'min', 'max', 'sum', 'percentile']),
        percentile: z.number().gt(0).lt(100).optional(),
        max_threshold: z.number().optional(),
        min_threshold: z.number().optional(),
        min_doc_count: count().min(1).default(1),
        window: window(),
      })
      .refine((r) => r.max_threshold !== undefined || r.min_threshold !== undefined, { message: 'needs max_threshold or min_threshold', path: ['max_threshold'] })
      .refine((r) => r.metric !== 'percentile' || r.percentile !== undefined, { message: 'metric percentile needs percentile: (e.g. 95)', path: ['percentile'] }),
    z.strictObject({ ...common, type: z.literal('change'), compare_key: field(), ignore_null: z.boolean().default(true), window: window().default(60_000), lookback: window().default(86_400_000) }),
    z
      .strictObject({
        ...common,
        type: z.literal('percentage_match'),
        match_filter: filterSchema,
        max_percentage: z.number().min(0).max(100).optional(),
        min_percentage: z.number().min(0).max(100).optional(),
        min_denominator: count().default(10),
        window: window(),
      })
      .refine((r) => r.max_percentage !== undefined || r.min_percentage !== undefined, { message: 'needs max_percentage or min_percentage', path: ['max_percentage'] }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${RULE_TYPE_NAMES.join(', ')}` : undefined) },
);

export const ruleSchema = types.refine((r) => r.dataset !== undefined || r.index !== undefined, { message: 'needs dataset (e.g. pos) or index (an index pattern)', path: ['dataset'] });

export type RuleSpec = z.infer<typeof ruleSchema>;
export type RuleOf<T extends RuleType> = Extract<RuleSpec, { type: T }>;
