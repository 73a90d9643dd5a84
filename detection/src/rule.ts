// A loaded rule: its validated spec plus what evaluation needs, computed once.
import { andFilters, compileFilter, type CompiledFilter } from './filter.js';
import type { AnyRuleType } from './rule-type.js';
import { ruleTypeNamed } from './rule-types/index.js';
import type { RuleSpec } from './schema.js';

export interface Rule<Spec = RuleSpec> {
  spec: Spec;
  /** The rule type's descriptor (rule-types/<type>.ts). */
  ruleType: AnyRuleType;
  /** The file it came from (for errors and GET /api/rules). */
  file: string;
  /** Elasticsearch index pattern the rule reads. */
  index: string;
  /** Matches a data stream name the rule reads (to see which rules a new event touches). */
  indexMatcher: RegExp;
  /** `filter`, and what the rule type adds to it (blacklist: the listed values). */
  filter: CompiledFilter;
  /** How far back evaluation ever looks (memory kept by offline replays). */
  horizonMs: number;
  /** Scheduled evaluation period. */
  runEveryMs: number;
}

export function buildRule(spec: RuleSpec, file: string): Rule {
  const ruleType = ruleTypeNamed(spec.type);
  if (!ruleType) throw new Error(`${file}: type: unknown rule type "${spec.type}"`);
  const index = spec.index ?? `logs-${spec.dataset}-${spec.namespace}`;
  const indexMatcher = new RegExp(
    `^(?:${index
      .split(',')
      .map((p) => p.trim().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
      .join('|')})$`,
  );
  const filter = andFilters([compileFilter(spec.filter), ...(ruleType.ruleFilters?.(spec) ?? []).map((f) => compileFilter(f))]);
  // Scheduled runs catch what event-triggered runs cannot see (flatline: the absence of
  // events) and whatever a crash skipped; a quarter window keeps a missed window short.
  const runEveryMs = spec.run_every ?? Math.min(60_000, Math.max(1_000, Math.floor(spec.window / 4)));
  return { spec, ruleType, file, index, indexMatcher, filter, horizonMs: ruleType.horizon(spec), runEveryMs };
}
