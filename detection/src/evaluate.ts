// From a rule's matches to incidents: one incident per fingerprint, opened once, updated by
// recurrences, reopened after resolve. The store decides where incidents live (Elasticsearch
// with optimistic concurrency in the collector, memory in `stacklens rules test`).
import { RULE_TYPES, type Match } from './types.js';
import { incidentFingerprint, incidentId, openIncident, recordMatch, type Incident } from './incident.js';
import type { Rule } from './rule.js';
import type { StatsSource } from './stats.js';

export interface IncidentStore {
  /**
   * Read-modify-write of one incident. `change` gets the current version (undefined if
   * none) and returns the new one, or undefined for "no change". A store retries `change`
   * on a concurrent write, so it must be safe to call more than once.
   */
  update(id: string, change: (current: Incident | undefined) => Promise<Incident | undefined>): Promise<Incident | undefined>;
}

export interface Outcome {
  incident: Incident;
  opened: boolean;
  fired: boolean;
}

export interface ApplyOptions {
  store: IncidentStore;
  source: StatsSource;
  /** The id of a silence covering this match, if any. */
  silencedBy?: (rule: Rule, match: Match) => string | undefined;
}

export async function evaluateRule(rule: Rule, now: number, opts: ApplyOptions): Promise<Outcome[]> {
  const matches = await RULE_TYPES[rule.spec.type].evaluate(rule, now, opts.source);
  const outcomes: Outcome[] = [];
  for (const match of matches) {
    const outcome = await applyMatch(rule, match, now, opts);
    if (outcome) outcomes.push(outcome);
  }
  return outcomes;
}

export async function applyMatch(rule: Rule, match: Match, now: number, opts: ApplyOptions): Promise<Outcome | undefined> {
  const id = incidentId(incidentFingerprint(rule.spec.name, rule.index, match.key, match.template));
  const silencedBy = opts.silencedBy?.(rule, match);
  const eventType = RULE_TYPES[rule.spec.type].countsEvents;
  let outcome: Outcome | undefined;
  await opts.store.update(id, async (current) => {
    outcome = undefined;
    if (!current) {
      const incident = openIncident(rule, match, now, silencedBy);
      outcome = { incident, opened: true, fired: incident.fire_count > 0 };
      return incident;
    }
    const incident = structuredClone(current);
    const added = eventType
      ? await opts.source.countSince(rule, match.key, match.template, Date.parse(current.last_seen), Math.max(now, match.last))
      : { count: match.count, last: now };
    const { changed, fired } = recordMatch(incident, rule, match, added, now, silencedBy);
    if (!changed) return undefined;
    outcome = { incident, opened: false, fired };
    return incident;
  });
  return outcome;
}

export class MemoryIncidentStore implements IncidentStore {
  readonly incidents = new Map<string, Incident>();
  async update(id: string, change: (current: Incident | undefined) => Promise<Incident | undefined>): Promise<Incident | undefined> {
    const next = await change(this.incidents.get(id));
    if (next) this.incidents.set(id, next);
    return next ?? this.incidents.get(id);
  }
}
