// One rule over events held in memory, without Elasticsearch: how rule types are unit-tested
// (rule-types/*.test.ts), and a quick way to try a rule on a few events.
import { MemoryIncidentStore, evaluateRule } from './evaluate.js';
import { templateSource } from './templates/index.js';
import type { Incident } from './incident.js';
import { MemorySource } from './memory-source.js';
import { buildRule, type Rule } from './rule.js';
import type { Match } from './rule-type.js';
import { ruleSchema } from './schema.js';
import { TemplateCatalog, templateFields } from './template-catalog.js';

export interface HeldEvent {
  /** Epoch ms (becomes @timestamp). */
  at: number;
  doc: Record<string, unknown>;
}

/** A rule from the keys of a rule file (name, severity and dataset default to test values). */
export function ruleFrom(keys: Record<string, unknown>): Rule {
  return buildRule(ruleSchema.parse({ name: 'test-rule', severity: 'low', dataset: 'test', ...keys }), 'test-rule.yml');
}

/** Template texts by id, as the in-memory sources below mined them (tests read a match's template as text). */
const TEXTS = new Map<string, string>();

/** The text of a template id a source below gave (its latest generalization). */
export function templateText(id: string): string | undefined {
  return TEXTS.get(id);
}

/** The source holding these events (those the rule's filter passes), in time order, with their message template as the collector adds it. */
export function memorySourceWith(rule: Rule, events: HeldEvent[]): MemorySource {
  const source = new MemorySource();
  const templates = new TemplateCatalog(undefined);
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    const t = templates.assignNow(rule.spec.name, templateSource(e.doc));
    TEXTS.set(t.id, t.template);
    source.add(rule, e.at, { '@timestamp': new Date(e.at).toISOString(), stacklens: templateFields(t), ...e.doc });
  }
  return source;
}

/** The rule type's matches at `now`. */
export function matchesAt(rule: Rule, events: HeldEvent[], now: number): Promise<Match[]> {
  return rule.ruleType.evaluate(rule, now, memorySourceWith(rule, events));
}

/** The incidents evaluating the rule at each of `times` leaves (event counts, recurrences, samples included). */
export async function incidentsAt(rule: Rule, events: HeldEvent[], times: number[]): Promise<Incident[]> {
  const source = memorySourceWith(rule, events);
  const store = new MemoryIncidentStore();
  for (const now of times) await evaluateRule(rule, now, { store, source });
  return [...store.incidents.values()];
}
