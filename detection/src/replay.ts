// Offline evaluation: events from a log file, in log time, through the same rule types and
// incident transitions as the collector — with memory in place of Elasticsearch. Powers
// `stacklens rules test` (ElastAlert's elastalert-test-rule).
//
// Clock: log time. A rule touched by an event is evaluated at the end of that event's
// second (the collector evaluates within ~a quarter second of indexing, and an event that
// arrives late at its own time: engine/late-events.ts) — an older line after newer ones
// too (interleaved sources, concatenated files); every rule also runs on its schedule
// (run_every), which is what finds flatlines inside the log.
import { MemorySource } from './memory-source.js';
import { MemoryIncidentStore, evaluateRule, type Outcome } from './evaluate.js';
import { compileFilter, type CompiledFilter } from './filter.js';
import { applyAction, type Incident } from './incident.js';
import type { Rule } from './rule.js';
import { TemplateCatalog, templateFields } from './template-catalog.js';
import { templateSource } from './templates/index.js';

export class Replay {
  readonly source = new MemorySource();
  readonly store = new MemoryIncidentStore();
  readonly outcomes: Outcome[] = [];
  /** Message templates mined as the collector mines them (one miner per dataset). */
  private readonly templates = new TemplateCatalog(undefined);
  private readonly nextRun = new Map<Rule, number>();
  /** Evaluations due (end of a touching event's second) → the rules touched. */
  private readonly due = new Map<number, Set<Rule>>();
  private clock = -Infinity;
  events = 0;
  matched = 0;

  constructor(private readonly rules: Rule[]) {
    for (const r of rules) {
      const refusal = offlineRefusal(r);
      if (refusal) throw new Error(refusal);
    }
  }

  /** Add one parsed event (an ECS document with @timestamp); evaluates whatever came due before it. */
  async add(doc: Record<string, unknown>, dataStream: string): Promise<void> {
    const at = Date.parse(String(doc['@timestamp']));
    if (Number.isNaN(at)) return;
    await this.advanceTo(at);
    this.events++;
    doc.stacklens = templateFields(this.templates.assignNow(datasetOf(dataStream), templateSource(doc)));
    for (const rule of this.rules) {
      if (!this.nextRun.has(rule)) this.nextRun.set(rule, Math.floor(at / rule.runEveryMs) * rule.runEveryMs + rule.runEveryMs);
      if (!rule.indexMatcher.test(dataStream)) continue;
      if (this.source.add(rule, at, doc)) {
        this.matched++;
        const second = Math.floor(at / 1000) * 1000 + 1000;
        let rules = this.due.get(second);
        if (!rules) this.due.set(second, (rules = new Set()));
        rules.add(rule);
      }
    }
  }

  /** Evaluate what is still pending at the end of the log (no extrapolation beyond it). */
  async finish(): Promise<Incident[]> {
    await this.runDue(Infinity);
    return [...this.store.incidents.values()].sort((a, b) => a.first_seen.localeCompare(b.first_seen));
  }

  private async advanceTo(at: number): Promise<void> {
    this.clock = Math.max(this.clock, at);
    await this.runDue(this.clock);
  }

  /** Run, oldest first, the evaluations due up to `until`: those of touching events and the schedule (not beyond the log's end). */
  private async runDue(until: number): Promise<void> {
    for (;;) {
      let next = Infinity;
      for (const t of this.due.keys()) next = Math.min(next, t);
      const touchedNext = next;
      if (until !== Infinity) for (const t of this.nextRun.values()) next = Math.min(next, t);
      if (next > until || next === Infinity) return;
      const rules = new Set<Rule>();
      if (touchedNext === next) {
        for (const r of this.due.get(next)!) rules.add(r);
        this.due.delete(next);
      }
      for (const [rule, t] of this.nextRun) {
        if (t <= next) {
          rules.add(rule);
          this.nextRun.set(rule, t + rule.runEveryMs);
        }
      }
      await this.evaluateAt(next, [...rules]);
    }
  }

  private async evaluateAt(now: number, rules: Rule[]): Promise<void> {
    for (const rule of rules) {
      this.source.prune(rule, now);
      this.outcomes.push(...(await evaluateRule(rule, now, { store: this.store, source: this.source })));
    }
    for (const inc of this.store.incidents.values()) {
      if (inc.status !== 'resolved' && inc.auto_resolve_at && Date.parse(inc.auto_resolve_at) <= now) applyAction(inc, 'auto_resolve', 'stacklens', now);
    }
  }
}

/**
 * Why this rule cannot be replayed offline, if so: a filter the offline evaluator cannot
 * answer exactly as Elasticsearch would. Replaying it anyway would open incidents the
 * collector never opens (or miss ones it does).
 */
function offlineRefusal(rule: Rule): string | undefined {
  const filters: [string, CompiledFilter][] = [['filter', rule.filter]];
  for (const [key, spec] of Object.entries(rule.ruleType.otherFilters?.(rule.spec) ?? {})) filters.push([key, compileFilter(spec)]);
  for (const [key, compiled] of filters) {
    if (compiled.unsupported) return `rule ${rule.spec.name} (${rule.file}): ${key}.${compiled.unsupported}; \`stacklens rules test\` refuses it (the collector evaluates it in Elasticsearch)`;
  }
  return undefined;
}

/** The dataset of a data stream name (logs-<dataset>-<namespace>); the name itself otherwise. */
function datasetOf(dataStream: string): string {
  const m = /^logs-(.+)-[^-]+$/.exec(dataStream);
  return m ? m[1] : dataStream;
}
