// The detection engine: rules from rules_dir (hot-reloaded), evaluated two ways —
//  • event-triggered: the indexer hands over every batch it indexed; rules whose filter a
//    new event matches are evaluated at the next tick (default 250 ms), after a refresh of
//    their data streams, so an incident exists ~a second after the line was written;
//  • scheduled: every rule runs each run_every slot, claimed in Elasticsearch so only one
//    collector runs a slot; this finds absences (flatline) and catches up missed windows.
// An event-counting rule touched by events outside the window an evaluation now looks at (an
// old log read for the first time, lines shipped after a long outage, a clock ahead) is also
// evaluated at those events' own log time (late-events.ts).
// Both ask Elasticsearch (fleet-wide) and write incidents with optimistic concurrency.
import { hostname } from 'node:os';
import { watch, type FSWatcher } from 'chokidar';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import { ElasticsearchSource } from '../adapters/elasticsearch/es-source.js';
import { ElasticsearchIncidentStore } from '../adapters/elasticsearch/incident-store.js';
import { SilenceStore } from '../adapters/elasticsearch/silences.js';
import { claimSlot } from '../adapters/elasticsearch/rule-schedule.js';
import { RuleHealth } from '../rule-health.js';
import { TEMPLATE_FIELD } from '../stats.js';
import { applyAction, type Incident } from '../incident.js';
import { evaluateRule, type Outcome } from '../evaluate.js';
import { fieldValue } from '../fields.js';
import { loadRules, type RuleLoadError } from '../loader.js';
import type { Match } from '../rule-type.js';
import type { Rule } from '../rule.js';
import { RuleDispatch } from './dispatch.js';
import { LateEvents } from './late-events.js';

const RULES_IN_PARALLEL = 4;
/** Routine (non-urgent) touches evaluate a rule at most this often. */
const ROUTINE_INTERVAL_MS = 1000;
/** Evaluations per rule per tick at the log time of late events (more wait for the next tick). */
const LATE_EVALUATIONS_PER_TICK = 32;
/** After a late evaluation failed, the rule's late events wait this long before the next try. */
const LATE_RETRY_MS = 5_000;
/** Known groups remembered per rule (forgotten all at once beyond this: they only set priority). */
const MAX_KNOWN_GROUPS = 10_000;

/** The group an event falls in for a rule: its group_by values (and message template, for per-template types). */
function groupOf(rule: Rule, doc: Record<string, unknown>): string {
  return JSON.stringify([...rule.spec.group_by.map((f) => fieldValue(doc, f) ?? null), rule.ruleType.perTemplate ? (fieldValue(doc, TEMPLATE_FIELD) ?? '') : '']);
}
/** Counts of an open incident are written at most this often (new incidents at once). */
const INCIDENT_UPDATE_INTERVAL_MS = 3000;

/** A counter, as the engine uses it (prom-client's Counter fits). */
export interface EngineCounter {
  inc(labels: Record<string, string>, value?: number): void;
}
/** A histogram, as the engine uses it (prom-client's Histogram fits). */
export interface EngineHistogram {
  observe(labels: Record<string, string>, value: number): void;
}
/** The metrics the engine records; the collector passes its CollectorMetrics. */
export interface EngineMetrics {
  ruleEvaluations: EngineCounter;
  ruleMatches: EngineCounter;
  ruleEvaluationErrors: EngineCounter;
  ruleEvaluationSeconds: EngineHistogram;
  incidentsOpened: EngineCounter;
  incidentsResolved: EngineCounter;
}

export interface EngineOptions {
  metrics?: EngineMetrics;
  rulesDir: string;
  tickMs?: number;
  /** Scheduled runs, silence refresh and the auto-resolve sweep happen on this period. */
  scheduleMs?: number;
  collectorId?: string;
}

export interface EngineStats {
  evaluations: number;
  evaluationErrors: number;
  matches: number;
  opened: number;
  fired: number;
  autoResolved: number;
  lastEvaluationMs: number;
}

/**
 * A document as indexed, as much as the engine reads of it. The collector's indexer `Doc`
 * extends this (adding its id and raw line): detection cannot import the collector, and
 * `stacklens rules test` feeds the engine documents it built itself.
 */
export interface IndexedDoc {
  index: string;
  body: Record<string, unknown>;
}

export class RuleEngine {
  rules: Rule[] = [];
  private dispatch = new RuleDispatch([]);
  loadErrors: RuleLoadError[] = [];
  loadedAt = '';
  readonly incidents: ElasticsearchIncidentStore;
  readonly silences: SilenceStore;
  readonly stats: EngineStats = { evaluations: 0, evaluationErrors: 0, matches: 0, opened: 0, fired: 0, autoResolved: 0, lastEvaluationMs: 0 };
  /** Whether each rule's evaluations here succeed (GET /api/rules shows failing rules with the reason). */
  readonly health = new RuleHealth();
  /** Called for every incident opened or updated (the notification issues hook in here). */
  onOutcome: (o: Outcome) => void = () => {};
  /** Called when the auto-resolver resolves an incident. */
  onAutoResolved: (inc: Incident) => void = () => {};

  private readonly source: ElasticsearchSource;
  private readonly touched = new Set<Rule>();
  private readonly urgent = new Set<Rule>();
  /** Matched events outside the window an evaluation now would look at: evaluated at their own time. */
  readonly late = new LateEvents();
  private lateDroppedTold = 0;
  /** Per rule, no late evaluation before then (one failed). */
  private readonly lateRetryAt = new Map<string, number>();
  /** Per rule, the groups (key + template) its recent matches had: a touch for one of them is routine. */
  private readonly knownGroups = new Map<string, Set<string>>();
  private readonly lastTriggered = new Map<string, number>();
  private readonly tickMs: number;
  private readonly scheduleMs: number;
  private readonly collectorId: string;
  private tickTimer?: NodeJS.Timeout;
  private scheduleTimer?: NodeJS.Timeout;
  private watcher?: FSWatcher;
  private reloadTimer?: NodeJS.Timeout;
  /** Scheduled slots this collector claimed and ran, per rule (the others ran elsewhere). */
  readonly scheduledRuns = new Map<string, number>();
  /** When each rule's next scheduled slot starts (no claim request before then). */
  private readonly nextSlotAt = new Map<string, number>();
  private ticking = false;
  private scheduling = false;
  private stopped = false;

  constructor(
    private readonly client: Client,
    private readonly options: EngineOptions,
    private readonly log: Logger,
  ) {
    this.source = new ElasticsearchSource(client);
    this.incidents = new ElasticsearchIncidentStore(client);
    this.silences = new SilenceStore(client);
    this.tickMs = options.tickMs ?? 250;
    this.scheduleMs = options.scheduleMs ?? 1000;
    this.collectorId = options.collectorId ?? `${hostname()}:${process.pid}`;
  }

  /** Load rules and start evaluating (call once Elasticsearch has the templates). */
  start(): void {
    this.reload();
    this.watcher = watch(this.options.rulesDir, { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
    this.watcher.on('all', (_event, path) => {
      if (!/\.ya?ml$/.test(path)) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => this.reload(), 300);
    });
    this.watcher.on('error', (err) => this.log.warn({ err: String(err) }, 'watching rules_dir failed; use POST /api/rules/reload'));
    // A file written while the watcher was still scanning counts as "initial" and raises no
    // event: read the directory once more when the watch is in place.
    this.watcher.once('ready', () => this.reload({ quietIfUnchanged: true }));
    this.tickTimer = setInterval(() => void this.tick(), this.tickMs);
    this.scheduleTimer = setInterval(() => void this.schedule(), this.scheduleMs);
    void this.schedule();
  }

  /** What the last reload logged: a reload that changes nothing (the watcher's first look) says nothing again. */
  private loadedSignature = '';

  reload(opts: { quietIfUnchanged?: boolean } = {}): { rules: number; errors: RuleLoadError[] } {
    let loaded;
    try {
      loaded = loadRules(this.options.rulesDir, this.rules);
    } catch (err) {
      this.loadErrors = [{ file: this.options.rulesDir, message: (err as Error).message, keptPrevious: this.rules.length > 0 || undefined }];
      this.log.error({ err: (err as Error).message }, 'cannot read rules_dir; keeping the rules loaded before');
      return { rules: this.rules.length, errors: this.loadErrors };
    }
    this.rules = loaded.rules.filter((r) => r.spec.enabled);
    this.health.retain(this.rules);
    this.late.retain(this.rules);
    this.dispatch = new RuleDispatch(this.rules);
    this.loadErrors = loaded.errors;
    this.loadedAt = new Date().toISOString();
    const signature = JSON.stringify([this.rules.map((r) => [r.spec.name, r.file, JSON.stringify(r.spec)]), loaded.errors.map((e) => [e.file, e.message])]);
    if (opts.quietIfUnchanged && signature === this.loadedSignature) return { rules: this.rules.length, errors: loaded.errors };
    this.loadedSignature = signature;
    for (const e of loaded.errors) this.log.error({ file: e.file, kept_previous_version: Boolean(e.keptPrevious) }, e.message);
    this.log.info({ rules: this.rules.map((r) => r.spec.name), errors: loaded.errors.length, dir: this.options.rulesDir }, 'rules loaded');
    return { rules: this.rules.length, errors: loaded.errors };
  }

  /**
   * The indexer's hook: which rules do these new events touch? Cheap: a filter test per rule.
   * A touch that may open a new incident — as the rule type's `urgency` says: an event of a
   * group this collector has not seen match (any, frequency …), or any event (a possible new
   * term) — is urgent: it is evaluated at the next tick, ahead of the rest. Other touches
   * (more of a known incident, aggregate types) are evaluated at most every second, so busy
   * rules cannot delay new ones.
   */
  observe(docs: IndexedDoc[]): void {
    const matched: Rule[] = [];
    const now = Date.now();
    for (const d of docs) {
      for (const rule of this.dispatch.matching(d.index, d.body, matched)) {
        if (rule.ruleType.lateEvents) this.late.note(rule, Date.parse(String(d.body['@timestamp'])), now);
        if (this.urgent.has(rule)) continue;
        const { urgency } = rule.ruleType;
        if (urgency === 'always' || (urgency === 'new_group' && !this.knownGroups.get(rule.spec.name)?.has(groupOf(rule, d.body)))) {
          this.urgent.add(rule);
          this.touched.delete(rule);
        } else this.touched.add(rule);
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped || (this.urgent.size === 0 && this.touched.size === 0 && this.late.pending === 0)) return;
    this.ticking = true;
    const now = Date.now();
    const urgent = [...this.urgent];
    const routine = [...this.touched].filter((r) => now - (this.lastTriggered.get(r.spec.name) ?? 0) >= ROUTINE_INTERVAL_MS);
    this.urgent.clear();
    for (const r of routine) this.touched.delete(r);
    const rules = [...urgent, ...routine];
    const late = this.late.take(LATE_EVALUATIONS_PER_TICK, (r) => now < (this.lateRetryAt.get(r.spec.name) ?? 0));
    if (this.late.dropped > this.lateDroppedTold) {
      this.log.warn({ dropped: this.late.dropped - this.lateDroppedTold }, 'too many late events waiting for their own evaluation (more than 100,000 distinct seconds for a rule): these are in Elasticsearch but were not evaluated at their own time');
      this.lateDroppedTold = this.late.dropped;
    }
    if (rules.length === 0 && late.size === 0) {
      this.ticking = false;
      return;
    }
    this.log.debug({ urgent: urgent.map((r) => r.spec.name), routine: routine.map((r) => r.spec.name) }, 'evaluating rules touched by new events');
    try {
      // Make the just-indexed events searchable now rather than at the next refresh interval.
      const indices = [...new Set([...rules, ...late.keys()].map((r) => r.index))].join(',');
      await this.client.indices.refresh({ index: indices, ignore_unavailable: true, allow_no_indices: true });
      // A few at a time (urgent ones first): Elasticsearch runs each as a search, and it is busy indexing too.
      for (let i = 0; i < rules.length; i += RULES_IN_PARALLEL) {
        await Promise.all(
          rules.slice(i, i + RULES_IN_PARALLEL).map((r) => {
            this.lastTriggered.set(r.spec.name, Date.now());
            return this.evaluate(r, Date.now(), 'event');
          }),
        );
      }
      // Late events, each span at its own time (late-events.ts); one that fails is tried again.
      for (const [rule, ends] of late) {
        for (const [k, at] of ends.entries()) {
          if (await this.evaluate(rule, Date.now(), 'event', at)) continue;
          // Failed (logged): this and the rest again in a few seconds, not at every tick.
          for (const t of ends.slice(k)) this.late.note(rule, t, Date.now());
          this.lateRetryAt.set(rule.spec.name, Date.now() + LATE_RETRY_MS);
          break;
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'event-triggered evaluation failed; the scheduled run will retry');
      for (const r of rules) this.touched.add(r);
      for (const [rule, ends] of late) {
        for (const at of ends) this.late.note(rule, at, Date.now());
        this.lateRetryAt.set(rule.spec.name, Date.now() + LATE_RETRY_MS);
      }
    } finally {
      this.ticking = false;
    }
  }

  private async schedule(): Promise<void> {
    if (this.scheduling || this.stopped) return;
    this.scheduling = true;
    try {
      await this.silences.refresh();
      for (const rule of this.rules) {
        const now = Date.now();
        if (now < (this.nextSlotAt.get(rule.spec.name) ?? 0)) continue;
        const claim = await claimSlot(this.client, rule, now, this.collectorId);
        this.nextSlotAt.set(rule.spec.name, (Math.floor(now / rule.runEveryMs) + 1) * rule.runEveryMs);
        if (!claim) continue;
        this.scheduledRuns.set(rule.spec.name, (this.scheduledRuns.get(rule.spec.name) ?? 0) + claim.times.length);
        for (const t of claim.times) await this.evaluate(rule, t, 'schedule');
      }
      await this.autoResolve();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'scheduled evaluation failed; retrying next period');
    } finally {
      this.scheduling = false;
    }
  }

  /** Evaluate a rule now (its window ending at `at`, late events' log time, if given); false when it failed. */
  private async evaluate(rule: Rule, now: number, trigger: 'event' | 'schedule', at?: number): Promise<boolean> {
    const started = performance.now();
    this.log.debug({ rule: rule.spec.name, at: new Date(at ?? now).toISOString() }, 'evaluating');
    try {
      const outcomes = await evaluateRule(rule, now, {
        at,
        store: this.incidents,
        source: this.source,
        silencedBy: (r, m) => this.silences.silencedBy(r, m, now),
        onMatch: (m) => this.remember(rule, m),
        // Late events' evaluations (one per span of log time) each count theirs: none to skip.
        updateIntervalMs: at === undefined ? INCIDENT_UPDATE_INTERVAL_MS : 0,
      });
      this.health.succeeded(rule, Date.now());
      this.stats.evaluations++;
      this.stats.matches += outcomes.length;
      const m = this.options.metrics;
      m?.ruleEvaluations.inc({ rule: rule.spec.name, trigger });
      if (outcomes.length) m?.ruleMatches.inc({ rule: rule.spec.name }, outcomes.length);
      for (const o of outcomes) {
        if (o.opened) {
          this.stats.opened++;
          m?.incidentsOpened.inc({ severity: o.incident.severity });
        }
        if (o.fired) this.stats.fired++;
        if (o.opened || o.fired) {
          this.log.info({ incident: o.incident.id, rule: rule.spec.name, severity: o.incident.severity, group: o.incident.group_key, reopened: !o.opened, silenced: o.incident.silenced_by }, o.opened ? 'incident opened' : 'incident reopened');
        }
        this.onOutcome(o);
      }
      return true;
    } catch (err) {
      this.stats.evaluationErrors++;
      this.health.failed(rule, err, Date.now());
      this.options.metrics?.ruleEvaluationErrors.inc({ rule: rule.spec.name });
      this.log.warn({ rule: rule.spec.name, err: (err as Error).message }, 'rule evaluation failed');
      return false;
    } finally {
      this.stats.lastEvaluationMs = performance.now() - started;
      this.options.metrics?.ruleEvaluationSeconds.observe({ trigger }, this.stats.lastEvaluationMs / 1000);
    }
  }

  private remember(rule: Rule, m: Match): void {
    let known = this.knownGroups.get(rule.spec.name);
    if (!known || known.size >= MAX_KNOWN_GROUPS) this.knownGroups.set(rule.spec.name, (known = new Set()));
    known.add(JSON.stringify([...rule.spec.group_by.map((f) => m.key[f] ?? null), rule.ruleType.perTemplate ? m.template : '']));
  }

  private async autoResolve(): Promise<void> {
    const now = Date.now();
    for (const id of await this.incidents.dueForAutoResolve(now)) {
      const resolved = await this.incidents.update(id, async (current) => {
        if (!current || current.status === 'resolved' || !current.auto_resolve_at || Date.parse(current.auto_resolve_at) > now) return undefined;
        const next = structuredClone(current);
        applyAction(next, 'auto_resolve', 'stacklens', now);
        return next;
      });
      if (resolved?.status === 'resolved' && resolved.resolved_by === 'stacklens') {
        this.stats.autoResolved++;
        this.options.metrics?.incidentsResolved.inc({ severity: resolved.severity, by: 'auto' });
        this.onAutoResolved(resolved);
        this.log.info({ incident: id, rule: resolved.rule }, 'incident auto-resolved after its quiet period');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearInterval(this.scheduleTimer);
    clearTimeout(this.reloadTimer);
    await this.watcher?.close();
  }
}
