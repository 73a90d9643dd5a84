// Incidents, as pure state transitions: opened from a match, updated by a recurrence,
// acknowledged, resolved, reopened. The collector stores them in Elasticsearch with
// optimistic concurrency; `stacklens rules test` keeps them in memory. Same rules either way.
import { createHash } from 'node:crypto';
import type { Rule } from './rule.js';
import type { Severity } from './rule-common.js';
import type { Match } from './rule-type.js';
import { TEMPLATE_FIELD, TEMPLATE_TEXT_FIELD, type GroupKey } from './stats.js';
import { fieldValue } from './fields.js';

export const INCIDENTS_INDEX = 'stacklens-incidents';
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export interface TimelineEntry {
  stage: string;
  at: string;
  by?: string;
  note?: string;
}

export interface Incident {
  id: string;
  rule: string;
  rule_type: string;
  description: string;
  severity: Severity;
  status: IncidentStatus;
  fingerprint: string;
  /** "pos.store_id=STORE_001" — the group_by values, in words ("" when the rule has no group_by). */
  group_key: string;
  group: GroupKey;
  message_template: string;
  /** The id of the events' message template (stacklens.template_id), when the rule groups by template. */
  template_id?: string;
  summary: string;
  value?: number | string;
  /** Matching events attributed to the incident (event types) or in the latest window (aggregate types). */
  count: number;
  /** Evaluations that found the condition. */
  occurrences: number;
  first_seen: string;
  last_seen: string;
  detected_at: string;
  updated_at: string;
  last_matched_at: string;
  acknowledged_at?: string;
  acknowledged_by?: string;
  /** Seconds from detection to the (latest) acknowledgement and resolution: dashboards average them. */
  time_to_acknowledge_seconds?: number;
  time_to_resolve_seconds?: number;
  /** pending, created, failed (set by the ticket integration). */
  ticket_state?: string;
  resolved_at?: string;
  resolved_by?: string;
  reopen_count: number;
  fire_count: number;
  last_fired_at?: string;
  /**
   * Set by the write that fires the incident (when it notifies anyone), cleared once its alert
   * and triage are queued: the durable record that actions are owed, so they are queued even when
   * that write's answer was lost or its collector died before queueing (Notifier.queueOwedActions).
   */
  actions_pending?: boolean;
  auto_resolve_at?: string;
  silenced_by?: string;
  labels: Record<string, string>;
  runbook: string;
  notify: string[];
  index: string;
  samples: Record<string, unknown>[];
  timeline: TimelineEntry[];
  /** Set by the triage integration (AI analysis or runbook triage). */
  triage?: Record<string, unknown>;
  /** Set by the ticket integration. */
  ticket?: { key: string; url: string; found?: boolean };
  /** Set by the chat integrations: where the alert was posted, and how much of the timeline its thread has. */
  chat?: { messages: ChatMessageRef[] };
}

/** One alert message: Slack's channel + ts, or Mattermost's post id. */
export interface ChatMessageRef {
  /**
   * The integration type that posted it (the collector's chat integrations name the platforms:
   * collector/src/integrations/descriptors; detection does not know them).
   */
  platform: string;
  /** Slack workspace (team id) or Mattermost team name; "" for the default. */
  workspace: string;
  /** The channel as routed ("#oncall") and as the platform named it in its answer (an id). */
  channel: string;
  channel_id: string;
  /** Slack ts or Mattermost post id; "" for incoming-webhook messages (they cannot be edited). */
  message_id: string;
  posted_at: string;
  /** Timeline entries the message already tells (in itself or as thread replies). */
  replied: number;
}

const MAX_SAMPLES = 5;
const MAX_TIMELINE = 200;

/** A group key as incidents, silences and new_term matches write it: "pos.store_id=S1, pos.kiosk_id=(none)". The one place this text is built. */
export function groupKeyText(key: GroupKey): string {
  return Object.entries(key)
    .map(([f, v]) => `${f}=${v ?? '(none)'}`)
    .join(', ');
}

/**
 * rule + group key + message template: what makes two matches the same incident. The
 * indices the rule reads are part of the rule's identity (the same rule name run by a
 * staging and a production collector against different namespaces is two rules).
 */
export function incidentFingerprint(rule: string, index: string, key: GroupKey, template: string): string {
  const canonical = JSON.stringify([rule, index, Object.entries(key).sort(([a], [b]) => a.localeCompare(b)), template]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** Deterministic: every collector computes the same id for the same incident. */
export function incidentId(fingerprint: string): string {
  return `inc-${fingerprint.slice(0, 20)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function addTimeline(inc: Incident, entry: TimelineEntry): void {
  inc.timeline.push(entry);
  if (inc.timeline.length > MAX_TIMELINE) inc.timeline.splice(1, inc.timeline.length - MAX_TIMELINE);
}

function mergeSamples(newer: Record<string, unknown>[], older: Record<string, unknown>[]): Record<string, unknown>[] {
  const seen = new Set<string>();
  const out: Record<string, unknown>[] = [];
  for (const s of [...newer, ...older]) {
    const id = JSON.stringify([s['@timestamp'], (s as any).log?.offset, (s as any).log?.file?.path, s.message]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(s);
    if (out.length === MAX_SAMPLES) break;
  }
  return out;
}

/**
 * The incident's message template: the id its events were grouped by (per-template types;
 * frequency's commonest) and that template's text, read from a sample event that carries it.
 * Aggregate types have no template: their `template` is the condition, shown as is.
 */
function templateOf(match: Match): Pick<Incident, 'message_template' | 'template_id'> {
  const id = match.messageTemplate ?? match.template;
  const sample = id ? match.samples?.find((s) => fieldValue(s, TEMPLATE_FIELD) === id) : undefined;
  const text = match.templateText ?? (sample ? fieldValue(sample, TEMPLATE_TEXT_FIELD) : undefined);
  return typeof text === 'string' ? { message_template: text, template_id: id } : { message_template: id };
}

/**
 * What happened, in one line: for rules that count events, their message and where
 * ("Product #<*> has no price — pos.store_id=STORE_001: 3 events in 1m (threshold 3)");
 * for aggregate conditions, where and what was measured. Not only the counting.
 */
export function incidentSummary(rule: Rule, match: Match, messageTemplate: string | undefined, groupKey: string): string {
  const what = rule.ruleType.countsEvents && messageTemplate && !/^[0-9a-f]{16}$/.test(messageTemplate) ? messageTemplate : undefined;
  if (what) return `${what}${groupKey ? ` — ${groupKey}` : ''}: ${match.summary}`;
  return groupKey ? `${groupKey}: ${match.summary}` : match.summary;
}

export function openIncident(rule: Rule, match: Match, now: number, silencedBy?: string): Incident {
  const spec = rule.spec;
  const fingerprint = incidentFingerprint(spec.name, rule.index, match.key, match.template);
  const eventType = rule.ruleType.countsEvents;
  const inc: Incident = {
    id: incidentId(fingerprint),
    rule: spec.name,
    rule_type: spec.type,
    description: spec.description,
    severity: spec.severity,
    status: 'open',
    fingerprint,
    group_key: groupKeyText(match.key),
    group: match.key,
    ...templateOf(match),
    summary: incidentSummary(rule, match, templateOf(match).message_template, groupKeyText(match.key)),
    value: match.value,
    count: match.count,
    occurrences: 1,
    first_seen: iso(eventType ? match.first : now),
    last_seen: iso(eventType ? match.last : now),
    detected_at: iso(now),
    updated_at: iso(now),
    last_matched_at: iso(now),
    reopen_count: 0,
    fire_count: 0,
    labels: spec.labels,
    runbook: spec.runbook,
    notify: spec.notify,
    index: rule.index,
    samples: mergeSamples(match.samples ?? [], []),
    timeline: [{ stage: 'detected', at: iso(now), note: match.summary }],
  };
  if (spec.auto_resolve > 0) inc.auto_resolve_at = iso(now + spec.auto_resolve);
  fire(inc, now, silencedBy);
  return inc;
}

/** Record that the incident should alert now (notifications act on fire_count), unless silenced. */
function fire(inc: Incident, now: number, silencedBy?: string): boolean {
  if (silencedBy) {
    inc.silenced_by = silencedBy;
    addTimeline(inc, { stage: 'silenced', at: iso(now), note: `silence ${silencedBy}` });
    return false;
  }
  inc.silenced_by = undefined;
  inc.fire_count++;
  inc.last_fired_at = iso(now);
  if (inc.notify.length > 0) inc.actions_pending = true;
  return true;
}

/**
 * A new match for an existing incident. `added` is what happened since the incident's
 * last_seen (event types count the new events; a re-evaluation of the same window adds 0).
 * Returns whether anything changed and whether the incident fires again (reopened after
 * resolve, outside the rule's realert period, not silenced).
 */
export function recordMatch(
  inc: Incident,
  rule: Rule,
  match: Match,
  added: { count: number; last: number },
  now: number,
  silencedBy?: string,
): { changed: boolean; fired: boolean } {
  const spec = rule.spec;
  const eventType = rule.ruleType.countsEvents;
  // Re-evaluating a window already counted adds nothing (and does not reopen a resolved incident).
  if (eventType && added.count === 0) return { changed: false, fired: false };
  let fired = false;
  if (inc.status === 'resolved') {
    inc.status = 'open';
    inc.reopen_count++;
    inc.resolved_at = undefined;
    inc.resolved_by = undefined;
    inc.acknowledged_at = undefined;
    inc.acknowledged_by = undefined;
    const lastFired = inc.last_fired_at ? Date.parse(inc.last_fired_at) : -Infinity;
    const withinRealert = now - lastFired < spec.realert;
    addTimeline(inc, { stage: 'reopened', at: iso(now), note: withinRealert ? `${match.summary}; within realert (${spec.realert} ms): not notified again` : match.summary });
    if (!withinRealert) fired = fire(inc, now, silencedBy);
  }
  if (eventType) {
    inc.count += added.count;
    inc.last_seen = iso(Math.max(Date.parse(inc.last_seen), added.last));
  } else {
    inc.count = match.count;
    inc.last_seen = iso(now);
  }
  inc.summary = incidentSummary(rule, match, inc.message_template, inc.group_key);
  inc.value = match.value;
  inc.occurrences++;
  inc.samples = mergeSamples(match.samples ?? [], inc.samples);
  inc.updated_at = iso(now);
  inc.last_matched_at = iso(now);
  if (spec.auto_resolve > 0) inc.auto_resolve_at = iso(now + spec.auto_resolve);
  return { changed: true, fired };
}

export type IncidentAction = 'acknowledge' | 'resolve' | 'auto_resolve';

/** A person's (or the auto-resolver's) action; returns an error text when it does not apply. */
export function applyAction(inc: Incident, action: IncidentAction, by: string, now: number, note?: string): string | undefined {
  if (action === 'acknowledge') {
    if (inc.status !== 'open') return `incident ${inc.id} is ${inc.status}; only an open incident can be acknowledged`;
    inc.status = 'acknowledged';
    inc.acknowledged_at = iso(now);
    inc.acknowledged_by = by;
    inc.time_to_acknowledge_seconds = Math.max(0, (now - Date.parse(inc.detected_at)) / 1000);
    addTimeline(inc, { stage: 'acknowledged', at: iso(now), by, note });
  } else {
    if (inc.status === 'resolved') return `incident ${inc.id} is already resolved`;
    inc.status = 'resolved';
    inc.resolved_at = iso(now);
    inc.resolved_by = by;
    inc.time_to_resolve_seconds = Math.max(0, (now - Date.parse(inc.detected_at)) / 1000);
    inc.auto_resolve_at = undefined;
    addTimeline(inc, { stage: 'resolved', at: iso(now), by, note: note ?? (action === 'auto_resolve' ? 'no new match during the quiet period' : undefined) });
  }
  inc.updated_at = iso(now);
  return undefined;
}
