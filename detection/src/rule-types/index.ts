// The rule types: one descriptor file each (see rule-type.ts for what a descriptor holds).
// A new type is its file, one import and one entry below, and its unit test against the
// in-memory source (rule-types/rule-types.test.ts).
import type { AnyRuleType } from '../rule-type.js';
import { any } from './any.js';
import { frequency } from './frequency.js';
import { spike } from './spike.js';
import { flatline } from './flatline.js';
import { new_term } from './new_term.js';
import { cardinality } from './cardinality.js';
import { metric_aggregation } from './metric_aggregation.js';
import { change } from './change.js';
import { percentage_match } from './percentage_match.js';
import { blacklist } from './blacklist.js';
import { whitelist } from './whitelist.js';

export const RULE_TYPE_LIST = [any, frequency, spike, flatline, new_term, cardinality, metric_aggregation, change, percentage_match, blacklist, whitelist] as const;

/** A rule type by name, or undefined (an incident written by a type no longer known). */
export function ruleTypeNamed(name: string): AnyRuleType | undefined {
  return RULE_TYPE_LIST.find((d) => d.type === name);
}

/** The rule types by name. */
export const RULE_TYPES: Readonly<Record<string, AnyRuleType>> = Object.fromEntries(RULE_TYPE_LIST.map((d) => [d.type, d]));
