// A loaded rule: its validated spec plus what evaluation needs, computed once.
import { compileFilter, type CompiledFilter } from './filter.js';
import type { RuleSpec } from './schema.js';

export interface Rule {
  spec: RuleSpec;
  /** The file it came from (for errors and GET /api/rules). */
  file: string;
  /** Elasticsearch index pattern the rule reads. */
  index: string;
  /** Matches a data stream name the rule reads (to see which rules a new event touches). */
  indexMatcher: RegExp;
  filter: CompiledFilter;
  /** How far back evaluation ever looks (memory kept by offline replays). */
  horizonMs: number;
  /** Scheduled evaluation period. */
  runEveryMs: number;
}

export function buildRule(spec: RuleSpec, file: string): Rule {
  const index = spec.index ?? `logs-${spec.dataset}-${spec.namespace}`;
  const indexMatcher = new RegExp(
    `^(?:${index
      .split(',')
      .map((p) => p.trim().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
      .join('|')})$`,
  );
  const window = 'window' in spec ? spec.window : 60_000;
  const horizonMs = spec.type === 'spike' ? 4 * window : 'lookback' in spec ? spec.lookback : window;
  // Scheduled runs catch what event-triggered runs cannot see (flatline: the absence of
  // events) and whatever a crash skipped; a quarter window keeps a missed window short.
  const runEveryMs = spec.run_every ?? Math.min(60_000, Math.max(1_000, Math.floor(window / 4)));
  return { spec, file, index, indexMatcher, filter: compileFilter(spec.filter), horizonMs, runEveryMs };
}
