// The rule file format: one YAML file per rule, validated at load with errors naming the
// file, the line and the key. The common keys are in rule-common.ts; each type's own keys in
// its descriptor (rule-types/<type>.ts). ElastAlert2's key names are read as ours (aliases):
// `query_key` for group_by, `num_events` for threshold, `timeframe` for window …
import { z } from 'zod';
import { COMMON_ALIASES } from './rule-common.js';
import { RULE_TYPE_LIST } from './rule-types/index.js';
import type { AnyRuleType } from './rule-type.js';

export { SEVERITIES, type Severity } from './rule-common.js';

type Descriptor = (typeof RULE_TYPE_LIST)[number];
/** A validated rule file: one member of the union per rule type. */
export type RuleSpec = Descriptor extends infer D ? (D extends { schema: z.ZodType<infer S> } ? S : never) : never;
export type RuleType = RuleSpec['type'];
export type RuleOf<T extends RuleType> = Extract<RuleSpec, { type: T }>;

export const RULE_TYPE_NAMES = RULE_TYPE_LIST.map((d) => d.type) as RuleType[];

const union = z
  .discriminatedUnion('type', RULE_TYPE_LIST.map((d) => d.schema) as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${RULE_TYPE_NAMES.join(', ')}` : undefined),
  })
  .refine((r) => (r as { dataset?: string }).dataset !== undefined || (r as { index?: string }).index !== undefined, { message: 'needs dataset (e.g. pos) or index (an index pattern)', path: ['dataset'] });

/**
 * Reads ElastAlert2's names as ours; returns the renamed object and, per our key, the name
 * the file used (errors name the key as written). Both names at once is an error.
 */
function readAliases(raw: Record<string, unknown>, type: AnyRuleType | undefined): { spec: Record<string, unknown>; written: Map<string, string>; clashes: [string, string][] } {
  const spec = { ...raw };
  const written = new Map<string, string>();
  const clashes: [string, string][] = [];
  const aliases = { ...COMMON_ALIASES, ...type?.aliases };
  for (const [alias, target] of Object.entries(aliases)) {
    if (!(alias in spec)) continue;
    const { key, value } = typeof target === 'string' ? { key: target, value: (v: unknown) => v } : target;
    if (key in raw) {
      clashes.push([alias, key]);
      continue;
    }
    spec[key] = value(spec[alias]);
    delete spec[alias];
    written.set(key, alias);
  }
  return { spec, written, clashes };
}

export const ruleSchema: z.ZodType<RuleSpec> = z.unknown().transform((raw, ctx) => {
  let input = raw;
  let written = new Map<string, string>();
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const type = RULE_TYPE_LIST.find((d) => d.type === (raw as { type?: unknown }).type);
    const read = readAliases(raw as Record<string, unknown>, type);
    for (const [alias, key] of read.clashes) ctx.addIssue({ code: 'custom', path: [alias], message: `is ElastAlert2's name for "${key}": give one of them` });
    if (read.clashes.length) return z.NEVER;
    input = read.spec;
    written = read.written;
  }
  const result = union.safeParse(input);
  if (result.success) return result.data as RuleSpec;
  for (const issue of result.error.issues) {
    const [head, ...rest] = issue.path;
    const path = typeof head === 'string' && written.has(head) ? [written.get(head)!, ...rest] : issue.path;
    ctx.addIssue({ ...issue, path } as never);
  }
  return z.NEVER;
});
