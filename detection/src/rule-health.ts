// Whether each rule's evaluations succeed. A rule that loads but fails whenever it runs
// (metric avg on a keyword field: Elasticsearch refuses the aggregation) is not working,
// and GET /api/rules says so with the reason, rather than only the log and a metric.
import type { Rule } from './rule.js';

export type RuleState = 'ok' | 'failing' | 'not_evaluated';

export interface RuleHealthView {
  state: RuleState;
  /** The last evaluation, successful or not. */
  last_evaluated_at?: string;
  /** While failing: the last error, since when it has failed, how many evaluations in a row. */
  error?: string;
  failing_since?: string;
  failures?: number;
}

interface Entry {
  /** The spec the entry is about: an edited rule starts afresh. */
  spec: string;
  lastAt: number;
  error?: string;
  failingSince?: number;
  failures: number;
}

export class RuleHealth {
  private readonly entries = new Map<string, Entry>();

  succeeded(rule: Rule, at: number): void {
    const e = this.entry(rule);
    e.lastAt = at;
    e.error = undefined;
    e.failingSince = undefined;
    e.failures = 0;
  }

  failed(rule: Rule, error: unknown, at: number): void {
    const e = this.entry(rule);
    e.lastAt = at;
    e.error = describeError(error);
    e.failingSince ??= at;
    e.failures++;
  }

  of(rule: Rule): RuleHealthView {
    const e = this.entries.get(rule.spec.name);
    if (!e || e.spec !== JSON.stringify(rule.spec)) return { state: 'not_evaluated' };
    const last_evaluated_at = new Date(e.lastAt).toISOString();
    if (e.error === undefined) return { state: 'ok', last_evaluated_at };
    return { state: 'failing', last_evaluated_at, error: e.error, failing_since: new Date(e.failingSince!).toISOString(), failures: e.failures };
  }

  /** Forget rules no longer loaded. */
  retain(rules: Rule[]): void {
    const names = new Set(rules.map((r) => r.spec.name));
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name);
  }

  private entry(rule: Rule): Entry {
    const spec = JSON.stringify(rule.spec);
    let e = this.entries.get(rule.spec.name);
    if (!e || e.spec !== spec) this.entries.set(rule.spec.name, (e = { spec, lastAt: 0, failures: 0 }));
    return e;
  }
}

/**
 * One line for an evaluation error. Elasticsearch's errors carry the reason deep in the
 * body ("Field [pos.store_id] of type [keyword] is not supported for aggregation [avg]").
 */
export function describeError(err: unknown): string {
  const body = (err as { meta?: { body?: any } })?.meta?.body;
  const root = body?.error?.root_cause?.[0] ?? body?.error?.caused_by ?? body?.error;
  const reason = root?.reason ?? root?.caused_by?.reason;
  const text = reason ? `${root.type ? `${root.type}: ` : ''}${reason}` : err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}
