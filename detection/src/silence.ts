// Silences: matches of a rule, of labels or of one group key record the incident but do not
// alert, until a time. Like Alertmanager's silences, expressed in StackLens' own terms.
import type { Rule } from './rule.js';
import type { Match } from './rule-type.js';
import { groupKeyText } from './incident.js';

export const SILENCES_INDEX = 'stacklens-silences';

export interface Silence {
  id: string;
  rule?: string;
  labels?: Record<string, string>;
  /** The incident's group_key text, e.g. "pos.store_id=STORE_001". */
  group_key?: string;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
}

export function silenceMatches(s: Silence, rule: Rule, match: Match, now: number): boolean {
  if (Date.parse(s.starts_at) > now || Date.parse(s.ends_at) <= now) return false;
  if (s.rule !== undefined && s.rule !== rule.spec.name) return false;
  if (s.labels && !Object.entries(s.labels).every(([k, v]) => rule.spec.labels[k] === String(v))) return false;
  if (s.group_key !== undefined && s.group_key !== groupKeyText(match.key)) return false;
  return true;
}
