// From a rule's matches to incidents: one incident per fingerprint, opened once, updated by
// recurrences, reopened after resolve. The store decides where incidents live (Elasticsearch
// with optimistic concurrency in the collector, memory in `stacklens rules test`).
import type { Match } from './rule-type.js';
import { incidentFingerprint, incidentId, openIncident, recordMatch, type Incident } from './incident.js';
import type { Rule } from './rule.js';
import { TEMPLATE_FIELD, TEMPLATE_TEXT_FIELD, type StatsSource } from './stats.js';
import { fieldValue } from './fields.js';

export interface IncidentStore {
  /**
   * Read-modify-write of one incident. `change` gets the current version (undefined if
   * none) and returns the new one, or undefined for "no change". A store retries `change`
   * on a concurrent write, so it must be safe to call more than once. `visible`: return only
   * once searches see the change (a person's action, listed right after).
   */
  update(id: string, change: (current: Incident | undefined) => Promise<Incident | undefined>, opts?: { visible?: boolean }): Promise<Incident | undefined>;
  /** The current versions of these incidents (absent ids are missing from the map). */
  getMany(ids: string[]): Promise<Map<string, Incident>>;
}

export interface Outcome {
  incident: Incident;
  opened: boolean;
  fired: boolean;
}

export interface ApplyOptions {
  store: IncidentStore;
  source: StatsSource;
  /**
   * The end of the window the rule looks at, when not `now`: the log time of events that
   * arrived late (engine/late-events.ts). `now` stays the time of what happens to incidents.
   */
  at?: number;
  /**
   * An open incident's counts are refreshed at most this often (opening and reopening are
   * never delayed). Keeps a busy rule from costing requests on every evaluation; the
   * scheduled run brings the counts up to date after the last event.
   */
  updateIntervalMs?: number;
  /** Told of every match, changed or not (the collector learns which groups it has seen). */
  onMatch?: (match: Match) => void;
  /** The id of a silence covering this match, if any. */
  silencedBy?: (rule: Rule, match: Match) => string | undefined;
}

/** Matches are applied this many at a time (each may read, count and write). */
const CONCURRENCY = 8;
const SAMPLES = 3;

export async function evaluateRule(rule: Rule, now: number, opts: ApplyOptions): Promise<Outcome[]> {
  const matches = await rule.ruleType.evaluate(rule, opts.at ?? now, opts.source);
  if (matches.length === 0) return [];
  if (opts.onMatch) for (const m of matches) opts.onMatch(m);
  // One read for every incident these matches belong to; then only matches that bring
  // something new cost a request — re-evaluating a busy window stays cheap.
  const ids = matches.map((m) => matchIncidentId(rule, m));
  const current = await opts.store.getMany(ids);
  const due = matches.filter((m, i) => isNews(rule, m, current.get(ids[i]), now, opts.updateIntervalMs ?? 0));
  await Promise.all(
    due.map(async (m) => {
      if (m.samples || !m.sampleRange) return;
      m.samples = await opts.source.samples(rule, m.key, m.sampleRange.template, m.sampleRange.from, m.sampleRange.to, SAMPLES);
      // The incident is named after a template none of the samples has (frequency's commonest): read one event of it for the text.
      if (m.messageTemplate && !m.samples.some((s) => fieldValue(s, TEMPLATE_FIELD) === m.messageTemplate)) {
        const [one] = await opts.source.samples(rule, m.key, m.messageTemplate, m.sampleRange.from, m.sampleRange.to, 1);
        const text = one ? fieldValue(one, TEMPLATE_TEXT_FIELD) : undefined;
        if (typeof text === 'string') m.templateText = text;
      }
    }),
  );
  const outcomes: Outcome[] = [];
  for (let i = 0; i < due.length; i += CONCURRENCY) {
    const batch = await Promise.all(due.slice(i, i + CONCURRENCY).map((m) => applyMatch(rule, m, now, opts)));
    for (const o of batch) if (o) outcomes.push(o);
  }
  return outcomes;
}

export function matchIncidentId(rule: Rule, match: Match): string {
  return incidentId(incidentFingerprint(rule.spec.name, rule.index, match.key, match.template));
}

/**
 * Whether a match should change its incident now: a new incident; for event types, events
 * after the incident's last_seen; for aggregate types, a refresh of the measured value at
 * most once per run_every. A resolved incident reopens at once; open ones are refreshed at
 * most every updateIntervalMs.
 */
function isNews(rule: Rule, match: Match, current: Incident | undefined, now: number, updateIntervalMs: number): boolean {
  if (!current) return true;
  const eventType = rule.ruleType.countsEvents;
  if (eventType && match.last <= Date.parse(current.last_seen)) return false;
  if (current.status === 'resolved') return true;
  const sinceUpdate = now - Date.parse(current.last_matched_at);
  return eventType ? sinceUpdate >= updateIntervalMs : sinceUpdate >= Math.max(updateIntervalMs, rule.runEveryMs);
}

export async function applyMatch(rule: Rule, match: Match, now: number, opts: ApplyOptions): Promise<Outcome | undefined> {
  const id = matchIncidentId(rule, match);
  const silencedBy = opts.silencedBy?.(rule, match);
  const eventType = rule.ruleType.countsEvents;
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
      ? await opts.source.countSince(rule, match.key, match.scope === 'group' ? undefined : match.template, Date.parse(current.last_seen), Math.max(now, match.last))
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

  async getMany(ids: string[]): Promise<Map<string, Incident>> {
    const out = new Map<string, Incident>();
    for (const id of ids) {
      const found = this.incidents.get(id);
      if (found) out.set(id, found);
    }
    return out;
  }
}
