// The durable outbox: every external action (triage, ticket, comment, chat) is a task
// document in stacklens-outbox. A collector claims a task with optimistic concurrency
// (if_seq_no) and a lease, so several collectors never run it twice at once, and a crashed
// collector's lease runs out and another picks it up. Failures are retried with jittered
// exponential backoff, honouring Retry-After, until the retry budget (counted from the first
// attempt) is spent — then the task is `failed` with the reason. Task ids are deterministic
// (incident + action + generation): enqueueing the same work twice is a no-op. The id is only
// the dedupe key: what a handler needs to know (a chat destination) is the task's `payload`.
//
// Collectors need not be configured alike. A task names what it needs (`needs`: llm, xero,
// jira, slack, slack:<team>, mattermost) and its incident's rule; a collector claims only
// tasks whose needs it has and — while some running collector runs the rule — whose rule it
// runs. The poll query filters on both, and the claim checks again. A handler that finds it
// cannot run a task after all hands it back (CannotRunHere): pending again, needing more,
// the attempt not counted. A task no running collector can run stays pending — counted by
// unclaimable(), listed with waiting_for by the API — never done. Soft needs (a triage that
// would like an LLM) carry `fallback_after`: from then on any collector may run the task and
// is told what it lacks.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import PQueue from 'p-queue';
import { INDICES, type Logger } from '@stacklens/common';
import { TEMPLATES_DIR, isConflict, isIndexMissing, isNotFound, sourceOf } from '@stacklens/elasticsearch';
import { CollectorRegistry } from './registry.js';

export const OUTBOX_INDEX = INDICES.outbox;

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed';

/** `P`: the action's payload (each action's handler names its type, e.g. chat/alerts/alerts.ts). */
export interface Task<P extends object = Record<string, unknown>> {
  /** Deterministic (incident + action + generation): the dedupe key, never read back for meaning. */
  id: string;
  action: string;
  /** What the handler needs beyond the incident (e.g. a chat destination); absent on tasks queued by older versions. */
  payload?: P;
  incident_id: string;
  status: TaskStatus;
  attempts: number;
  not_before: string;
  lease_until?: string;
  claimed_by?: string;
  created_at: string;
  updated_at: string;
  last_error?: string;
  result?: Record<string, unknown>;
  /** What a collector must have to run it (all of them): llm, xero, jira, slack, slack:<team>, mattermost. */
  needs?: string[];
  /** needs.length, for the claim query (terms_set). */
  needs_count?: number;
  /** Soft needs: from this time on, a collector lacking them may run the task (and is told so). */
  fallback_after?: string;
  /** The collector that queued the task. */
  queued_by?: string;
  /** The incident's rule (ruleKey): while a collector running it runs, only such collectors claim the task. */
  rule?: string;
  /** Every collector that ever claimed the task, in order. */
  claimants?: string[];
  /** The first attempt: the retry budget counts from here, not from the queueing. */
  started_at?: string;
}

/** A task's needs this collector lacks (ignoring fallback_after). */
export function missingNeeds(task: Pick<Task, 'needs'>, capabilities: readonly string[]): string[] {
  return (task.needs ?? []).filter((n) => !capabilities.includes(n));
}

/** May a collector with these capabilities claim this task now? */
export function canRun(task: Pick<Task, 'needs' | 'fallback_after'>, capabilities: readonly string[], now = Date.now()): boolean {
  return missingNeeds(task, capabilities).length === 0 || (task.fallback_after !== undefined && Date.parse(task.fallback_after) <= now);
}

/** The query form of canRun: tasks a collector with these capabilities may claim at `now`. */
export function runnableQuery(capabilities: readonly string[], now: number): object {
  return {
    bool: {
      should: [
        { bool: { must_not: [{ exists: { field: 'needs' } }] } },
        ...(capabilities.length ? [{ terms_set: { needs: { terms: [...capabilities], minimum_should_match_field: 'needs_count' } } }] : []),
        { range: { fallback_after: { lte: now, format: 'epoch_millis' } } },
      ],
      minimum_should_match: 1,
    },
  };
}

/**
 * Rule scope: a task of a rule some running collector runs is for the collectors running it;
 * a task of a rule no running collector runs (deleted, renamed) — or of none — is for anyone.
 */
export function inScope(task: Pick<Task, 'rule'>, collectorRules: ReadonlySet<string>, liveRules: ReadonlySet<string>): boolean {
  return !task.rule || collectorRules.has(task.rule) || !liveRules.has(task.rule);
}

/** The query form of inScope. */
export function scopeQuery(collectorRules: ReadonlySet<string>, liveRules: ReadonlySet<string>): object {
  const others = [...liveRules].filter((r) => !collectorRules.has(r));
  return others.length ? { bool: { must_not: [{ terms: { rule: others } }] } } : { match_all: {} };
}

/** The outbox index's field mappings, from its index template (also put on an existing index at start). */
export function outboxMappings(): { dynamic: boolean; properties: Record<string, unknown> } {
  const template = JSON.parse(readFileSync(join(TEMPLATES_DIR, 'index', `${OUTBOX_INDEX}.json`), 'utf8'));
  return template.template.mappings;
}

/** The task view of the API: its document, how old it is, and what no running collector has. */
export interface TaskView extends Task {
  age_seconds: number;
  /** Needs no running collector has (empty: some collector can claim it). */
  waiting_for: string[];
}

/** Thrown by a handler for a failure worth retrying (5xx, 429, timeouts, outages). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Thrown by a handler that finds this collector cannot run the task (an integration missing):
 * the task goes back to pending needing `needs` too, for a collector that has them.
 */
export class CannotRunHere extends Error {
  constructor(
    readonly needs: string[],
    message: string,
  ) {
    super(message);
  }
}

/**
 * `final` is true on the last attempt the retry budget allows: a handler may fall back then.
 * `missing` lists the task's needs this collector lacks (it claimed the task after
 * fallback_after, when no collector that has them did).
 */
export type TaskHandler<P extends object = Record<string, unknown>> = (task: Task<P>, attempt: { final: boolean; missing: string[] }) => Promise<Record<string, unknown> | void>;

export interface EnqueueOptions<P extends object = Record<string, unknown>> {
  /** Stored with the task for its handler (not indexed). */
  payload?: P;
  needs?: string[];
  /** The incident's rule (ruleKey). */
  rule?: string;
  /** Soft needs: after this long, a collector without them may run the task. */
  fallbackAfterMs?: number;
}

export interface OutboxOptions {
  retryBudgetMs: number;
  leaseMs?: number;
  pollMs?: number;
  /** Concurrency per action (a p-queue each), e.g. { ticket: 2, triage: 4 }. */
  concurrency?: Record<string, number>;
  collectorId?: string;
  /** The index (tests use their own). */
  index?: string;
  /** Told how each attempt ended: done, retry, failed or handed back. */
  onResult?: (action: string, result: 'done' | 'retry' | 'failed' | 'handed_back') => void;
  /** Told when a task has failed for good (after its document says so), to record it on the incident. */
  onFailed?: (task: Task, reason: string) => Promise<void>;
}

export interface OutboxStats {
  enqueued: number;
  done: number;
  failed: number;
  retries: number;
  handedBack: number;
}

const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 60_000;

export class Outbox {
  readonly stats: OutboxStats = { enqueued: 0, done: 0, failed: 0, retries: 0, handedBack: 0 };
  readonly registry: CollectorRegistry;
  readonly index: string;
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly queues = new Map<string, PQueue>();
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  readonly collectorId: string;

  constructor(
    private readonly client: Client,
    private readonly options: OutboxOptions,
    private readonly log: Logger,
  ) {
    this.collectorId = options.collectorId ?? `${hostname()}:${process.pid}`;
    this.index = options.index ?? OUTBOX_INDEX;
    this.registry = new CollectorRegistry(client, this.index, this.collectorId, log);
  }

  /** What this collector can run (from its integrations); tasks needing anything else are left to others. */
  get capabilities(): string[] {
    return this.registry.own;
  }

  setCapabilities(caps: string[]): void {
    this.registry.setCapabilities(caps);
  }

  /** The handler of an action; `P` is the payload type its tasks are enqueued with. */
  handle<P extends object = Record<string, unknown>>(action: string, handler: TaskHandler<P>): void {
    this.handlers.set(action, handler as TaskHandler);
    this.queues.set(action, new PQueue({ concurrency: this.options.concurrency?.[action] ?? 2 }));
  }

  start(): void {
    void this.ensureMapping();
    this.registry.start();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
  }

  /** An outbox index made by an older version lacks the newer fields: add them (additive, idempotent). */
  private async ensureMapping(): Promise<void> {
    try {
      await this.client.indices.putMapping({ index: this.index, properties: outboxMappings().properties } as never);
    } catch (err) {
      if (!isIndexMissing(err)) this.log.warn({ err: (err as Error).message }, 'could not add the new outbox fields to the existing index');
    }
  }

  /**
   * Add a task (no-op if a task with this id exists; false then) and try it at once on this
   * collector if it can run it.
   */
  async enqueue<P extends object = Record<string, unknown>>(action: string, incidentId: string, id: string, opts: EnqueueOptions<P> = {}): Promise<boolean> {
    const now = new Date();
    const needs = [...new Set(opts.needs ?? [])].sort();
    const task: Task = {
      id,
      action,
      incident_id: incidentId,
      ...(opts.payload ? { payload: opts.payload as Record<string, unknown> } : {}),
      status: 'pending',
      attempts: 0,
      not_before: now.toISOString(),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      needs,
      needs_count: needs.length,
      queued_by: this.collectorId,
      ...(opts.rule ? { rule: opts.rule } : {}),
      ...(needs.length && opts.fallbackAfterMs !== undefined ? { fallback_after: new Date(now.getTime() + opts.fallbackAfterMs).toISOString() } : {}),
    };
    try {
      await this.client.create({ index: this.index, id, document: task });
      this.stats.enqueued++;
    } catch (err) {
      if (isConflict(err)) return false; // already there: the same work was enqueued before
      throw err;
    }
    if (canRun(task, this.capabilities)) void this.tryRun(id, task.action);
    return true;
  }

  get(id: string): Promise<Task | undefined> {
    return sourceOf<Task>(this.client, this.index, id);
  }

  /** Tasks by action and status (for the outbox depth gauge). */
  async depth(): Promise<{ action: string; status: string; count: number }[]> {
    try {
      const res: any = await this.client.search({
        index: this.index,
        size: 0,
        aggs: { action: { terms: { field: 'action', size: 20 }, aggs: { status: { terms: { field: 'status', size: 10 } } } } },
      } as never);
      return res.aggregations.action.buckets.flatMap((a: any) => a.status.buckets.map((st: any) => ({ action: a.key, status: st.key, count: st.doc_count })));
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }

  /**
   * Pending tasks no running collector can run, by action: their needs are on no collector
   * whose heartbeat is recent (and, for soft needs, fallback_after has not come).
   */
  async unclaimable(): Promise<Map<string, number>> {
    const now = Date.now();
    const live = await this.registry.live();
    const liveRules = new Set(live.flatMap((c) => c.rules));
    const out = new Map<string, number>();
    try {
      const res: any = await this.client.search({
        index: this.index,
        size: 0,
        query: {
          bool: {
            filter: [{ term: { status: 'pending' } }, { exists: { field: 'action' } }],
            must_not: live.map((c) => ({ bool: { filter: [runnableQuery(c.capabilities, now), scopeQuery(new Set(c.rules), liveRules)] } })),
          },
        },
        aggs: { action: { terms: { field: 'action', size: 20 } } },
      } as never);
      for (const b of res.aggregations.action.buckets) out.set(b.key, b.doc_count);
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    return out;
  }

  /** By action: seconds the oldest pending task that is due has waited to be claimed. */
  async oldestDue(): Promise<Map<string, number>> {
    const now = Date.now();
    const out = new Map<string, number>();
    try {
      const res: any = await this.client.search({
        index: this.index,
        size: 0,
        query: { bool: { filter: [{ term: { status: 'pending' } }, { range: { not_before: { lte: now, format: 'epoch_millis' } } }] } },
        aggs: { action: { terms: { field: 'action', size: 20 }, aggs: { oldest: { min: { field: 'not_before' } } } } },
      } as never);
      for (const b of res.aggregations.action.buckets) if (b.oldest.value !== null) out.set(b.key, Math.max(0, (now - b.oldest.value) / 1000));
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    return out;
  }

  /** Tasks for the API, newest first: filter by status, action and incident. */
  async list(filter: { status?: string[]; action?: string[]; incident?: string; size: number }): Promise<{ total: number; tasks: TaskView[] }> {
    const must: unknown[] = [{ exists: { field: 'action' } }];
    if (filter.status?.length) must.push({ terms: { status: filter.status } });
    if (filter.action?.length) must.push({ terms: { action: filter.action } });
    if (filter.incident) must.push({ term: { incident_id: filter.incident } });
    let total = 0;
    let tasks: Task[] = [];
    try {
      const res: any = await this.client.search({ index: this.index, size: filter.size, track_total_hits: true, sort: [{ updated_at: 'desc' }], query: { bool: { filter: must } } } as never);
      total = res.hits.total.value;
      tasks = res.hits.hits.map((h: any) => h._source);
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    const now = Date.now();
    const live = tasks.some((t) => t.status === 'pending' || t.status === 'running') ? await this.registry.live() : [];
    const liveRules = new Set(live.flatMap((c) => c.rules));
    return {
      total,
      tasks: tasks.map((t) => {
        let waiting: string[] = [];
        const eligible = live.filter((c) => inScope(t, new Set(c.rules), liveRules));
        if (t.status === 'pending' && !eligible.some((c) => canRun(t, c.capabilities, now))) {
          // What is missing: the needs no running collector (that runs the task's rule) has.
          waiting = (t.needs ?? []).filter((n) => !eligible.some((c) => c.capabilities.includes(n)));
          if (waiting.length === 0) waiting = t.needs?.length ? [t.needs.join(' + ')] : ['a running collector'];
        }
        return { ...t, needs: t.needs ?? [], age_seconds: Math.round((now - Date.parse(t.created_at)) / 100) / 10, waiting_for: waiting };
      }),
    };
  }

  /** Pending tasks that are due, and running ones whose lease ran out (their collector died) — among those this collector can run. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const now = Date.now();
      const { mine, live } = await this.scope();
      const res: any = await this.client.search({
        index: this.index,
        size: 50,
        _source: ['action'],
        sort: [{ created_at: 'asc' }],
        query: {
          bool: {
            filter: [runnableQuery(this.capabilities, now), scopeQuery(mine, live)],
            should: [
              { bool: { filter: [{ term: { status: 'pending' } }, { range: { not_before: { lte: now, format: 'epoch_millis' } } }] } },
              { bool: { filter: [{ term: { status: 'running' } }, { range: { lease_until: { lte: now, format: 'epoch_millis' } } }] } },
            ],
            minimum_should_match: 1,
          },
        },
      } as never);
      for (const hit of res.hits.hits) void this.tryRun(hit._id, hit._source?.action);
    } catch (err) {
      if (!isIndexMissing(err)) this.log.warn({ err: (err as Error).message }, 'outbox poll failed');
    } finally {
      this.polling = false;
    }
  }

  /** The rules this collector runs, and those running collectors (this one included) run. */
  private async scope(): Promise<{ mine: Set<string>; live: Set<string> }> {
    const mine = new Set(this.registry.ownRules());
    const live = new Set((await this.registry.live()).flatMap((c) => c.rules));
    for (const r of mine) live.add(r);
    return { mine, live };
  }

  private async tryRun(id: string, action?: string): Promise<void> {
    if (this.inFlight.has(id) || this.stopped) return;
    // Claim only what can start now: a task claimed to wait in a full queue would sit
    // "running" while its lease runs out, and no other collector could take it meanwhile.
    const queue = action === undefined ? undefined : this.queues.get(action);
    if (queue && queue.pending + queue.size >= queue.concurrency) return;
    this.inFlight.add(id);
    try {
      const claimed = await this.claim(id);
      if (!claimed) return;
      const { task, seqNo, primaryTerm } = claimed;
      const queue = this.queues.get(task.action);
      const handler = this.handlers.get(task.action);
      if (!queue || !handler) {
        const reason = `no handler for action "${task.action}"`;
        this.stats.failed++;
        this.options.onResult?.(task.action, 'failed');
        if (await this.finish(task, seqNo, primaryTerm, { status: 'failed', last_error: reason })) await this.failed(task, reason);
        return;
      }
      await queue.add(async () => {
        let patch: Partial<Task>;
        try {
          const started = Date.parse(task.started_at ?? task.created_at);
          const result = await handler(task, { final: Date.now() - started >= this.options.retryBudgetMs, missing: missingNeeds(task, this.capabilities) });
          patch = { status: 'done', result: result ?? undefined, last_error: undefined };
          this.stats.done++;
          this.options.onResult?.(task.action, 'done');
        } catch (err) {
          patch = this.afterFailure(task, err as Error);
        }
        if ((await this.finish(task, seqNo, primaryTerm, patch)) && patch.status === 'failed') await this.failed(task, patch.last_error ?? 'failed');
      });
    } catch (err) {
      this.log.warn({ task: id, err: (err as Error).message }, 'outbox task could not be run; it will be retried');
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async failed(task: Task, reason: string): Promise<void> {
    try {
      await this.options.onFailed?.({ ...task, status: 'failed', last_error: reason }, reason);
    } catch (err) {
      this.log.warn({ task: task.id, err: (err as Error).message }, 'could not record the failed task on its incident');
    }
  }

  private afterFailure(task: Task, err: Error): Partial<Task> {
    const reason = err.message.slice(0, 1000);
    if (err instanceof CannotRunHere) {
      const needs = [...new Set([...(task.needs ?? []), ...err.needs])].sort();
      // Handing back what this collector has would bring the task straight back here: retry it instead.
      if (missingNeeds({ needs }, this.capabilities).length > 0) {
        this.stats.handedBack++;
        this.options.onResult?.(task.action, 'handed_back');
        this.log.info({ task: task.id, action: task.action, needs, err: reason }, 'outbox task handed back for a collector that can run it');
        // Not an attempt: the collector that can run it starts its retry budget afresh.
        return { status: 'pending', needs, needs_count: needs.length, attempts: task.attempts - 1, started_at: task.attempts - 1 === 0 ? undefined : task.started_at, not_before: new Date().toISOString(), last_error: `handed back by ${this.collectorId}: ${reason}` };
      }
      err = new RetryableError(reason);
    }
    const age = Date.now() - Date.parse(task.started_at ?? task.created_at);
    if (!(err instanceof RetryableError) || age >= this.options.retryBudgetMs) {
      this.stats.failed++;
      this.options.onResult?.(task.action, 'failed');
      this.log.warn({ task: task.id, action: task.action, attempts: task.attempts, err: reason }, 'outbox task failed for good');
      return { status: 'failed', last_error: err instanceof RetryableError ? `retry budget spent: ${reason}` : reason };
    }
    this.stats.retries++;
    this.options.onResult?.(task.action, 'retry');
    const backoff = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.max(0, task.attempts - 1));
    const delay = Math.max(err.retryAfterMs ?? 0, backoff / 2 + Math.random() * (backoff / 2));
    this.log.info({ task: task.id, action: task.action, attempts: task.attempts, retry_in_ms: Math.round(delay), err: reason }, 'outbox task will be retried');
    return { status: 'pending', not_before: new Date(Date.now() + delay).toISOString(), last_error: reason };
  }

  private async claim(id: string): Promise<{ task: Task; seqNo: number; primaryTerm: number } | undefined> {
    let current: any;
    try {
      current = await this.client.get({ index: this.index, id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const task = current._source as Task;
    const now = Date.now();
    const due = task.status === 'pending' ? Date.parse(task.not_before) <= now : task.status === 'running' && Date.parse(task.lease_until ?? '') <= now;
    // Not ours to run: another collector has what it needs (or it waits for one that has), or
    // it belongs to a rule running collectors run and this one does not.
    if (!due || !canRun(task, this.capabilities, now)) return undefined;
    if (task.rule && !this.registry.ownRules().includes(task.rule)) {
      const { mine, live } = await this.scope();
      if (!inScope(task, mine, live)) return undefined;
    }
    const claimed: Task = {
      ...task,
      status: 'running',
      attempts: task.attempts + 1,
      lease_until: new Date(now + (this.options.leaseMs ?? 60_000)).toISOString(),
      claimed_by: this.collectorId,
      claimants: [...new Set([...(task.claimants ?? []), this.collectorId])],
      started_at: task.started_at ?? new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
    };
    try {
      const res: any = await this.client.index({ index: this.index, id, document: claimed, if_seq_no: current._seq_no, if_primary_term: current._primary_term });
      return { task: claimed, seqNo: res._seq_no, primaryTerm: res._primary_term };
    } catch (err) {
      if (isConflict(err)) return undefined; // another collector claimed it
      throw err;
    }
  }

  /** Write the outcome; false when another collector took the task over meanwhile (its outcome stands). */
  private async finish(task: Task, seqNo: number, primaryTerm: number, patch: Partial<Task>): Promise<boolean> {
    const document = { ...task, ...patch, lease_until: undefined, updated_at: new Date().toISOString() };
    try {
      await this.client.index({ index: this.index, id: task.id, document, if_seq_no: seqNo, if_primary_term: primaryTerm });
      return true;
    } catch (err) {
      // Our lease ran out and another collector took the task over: its outcome stands.
      if (!isConflict(err)) throw err;
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.queues.values()].map((q) => q.onIdle()));
    await this.registry.stop();
  }
}
