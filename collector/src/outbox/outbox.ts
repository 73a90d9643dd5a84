// The durable outbox: every external action (triage, ticket, comment) is a task document in
// stacklens-outbox. A collector claims a task with optimistic concurrency (if_seq_no) and a
// lease, so several collectors never run it twice at once, and a crashed collector's lease
// runs out and another picks it up. Failures are retried with jittered exponential backoff,
// honouring Retry-After, until the retry budget is spent — then the task is `failed` with
// the reason. Task ids are deterministic (incident + action + generation): enqueueing the
// same work twice is a no-op.
import { hostname } from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import PQueue from 'p-queue';
import type { Logger } from '@stacklens/common';
import { isConflict, isIndexMissing, isNotFound, sourceOf } from '../es-errors.js';

export const OUTBOX_INDEX = 'stacklens-outbox';

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed';

export interface Task {
  id: string;
  action: string;
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

/** `final` is true on the last attempt the retry budget allows: a handler may fall back then. */
export type TaskHandler = (task: Task, attempt: { final: boolean }) => Promise<Record<string, unknown> | void>;

export interface OutboxOptions {
  retryBudgetMs: number;
  leaseMs?: number;
  pollMs?: number;
  /** Concurrency per action (a p-queue each), e.g. { ticket: 2, triage: 4 }. */
  concurrency?: Record<string, number>;
  collectorId?: string;
  /** Told how each attempt ended: done, retry or failed. */
  onResult?: (action: string, result: 'done' | 'retry' | 'failed') => void;
}

export interface OutboxStats {
  enqueued: number;
  done: number;
  failed: number;
  retries: number;
}

const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 60_000;

export class Outbox {
  readonly stats: OutboxStats = { enqueued: 0, done: 0, failed: 0, retries: 0 };
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly queues = new Map<string, PQueue>();
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private readonly collectorId: string;

  constructor(
    private readonly client: Client,
    private readonly options: OutboxOptions,
    private readonly log: Logger,
  ) {
    this.collectorId = options.collectorId ?? `${hostname()}:${process.pid}`;
  }

  handle(action: string, handler: TaskHandler): void {
    this.handlers.set(action, handler);
    this.queues.set(action, new PQueue({ concurrency: this.options.concurrency?.[action] ?? 2 }));
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
  }

  /** Add a task (no-op if a task with this id exists) and try it at once on this collector. */
  async enqueue(action: string, incidentId: string, id: string): Promise<void> {
    const now = new Date().toISOString();
    const task: Task = { id, action, incident_id: incidentId, status: 'pending', attempts: 0, not_before: now, created_at: now, updated_at: now };
    try {
      await this.client.create({ index: OUTBOX_INDEX, id, document: task });
      this.stats.enqueued++;
    } catch (err) {
      if (isConflict(err)) return; // already there: the same work was enqueued before
      throw err;
    }
    void this.tryRun(id);
  }

  get(id: string): Promise<Task | undefined> {
    return sourceOf<Task>(this.client, OUTBOX_INDEX, id);
  }

  /** Tasks by action and status (for the outbox depth gauge). */
  async depth(): Promise<{ action: string; status: string; count: number }[]> {
    try {
      const res: any = await this.client.search({
        index: OUTBOX_INDEX,
        size: 0,
        aggs: { action: { terms: { field: 'action', size: 20 }, aggs: { status: { terms: { field: 'status', size: 10 } } } } },
      } as never);
      return res.aggregations.action.buckets.flatMap((a: any) => a.status.buckets.map((st: any) => ({ action: a.key, status: st.key, count: st.doc_count })));
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }

  /** Tasks for the API, newest first: filter by status and incident. */
  async list(filter: { status?: string[]; incident?: string; size: number }): Promise<{ total: number; tasks: Task[] }> {
    const must: unknown[] = [];
    if (filter.status?.length) must.push({ terms: { status: filter.status } });
    if (filter.incident) must.push({ term: { incident_id: filter.incident } });
    try {
      const res: any = await this.client.search({ index: OUTBOX_INDEX, size: filter.size, track_total_hits: true, sort: [{ updated_at: 'desc' }], query: { bool: { filter: must } } } as never);
      return { total: res.hits.total.value, tasks: res.hits.hits.map((h: any) => h._source) };
    } catch (err) {
      if (isIndexMissing(err)) return { total: 0, tasks: [] };
      throw err;
    }
  }

  /** Pending tasks that are due, and running ones whose lease ran out (their collector died). */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const now = Date.now();
      const res: any = await this.client.search({
        index: OUTBOX_INDEX,
        size: 50,
        _source: false,
        sort: [{ created_at: 'asc' }],
        query: {
          bool: {
            should: [
              { bool: { filter: [{ term: { status: 'pending' } }, { range: { not_before: { lte: now, format: 'epoch_millis' } } }] } },
              { bool: { filter: [{ term: { status: 'running' } }, { range: { lease_until: { lte: now, format: 'epoch_millis' } } }] } },
            ],
            minimum_should_match: 1,
          },
        },
      } as never);
      for (const hit of res.hits.hits) void this.tryRun(hit._id);
    } catch (err) {
      if (!isIndexMissing(err)) this.log.warn({ err: (err as Error).message }, 'outbox poll failed');
    } finally {
      this.polling = false;
    }
  }

  private async tryRun(id: string): Promise<void> {
    if (this.inFlight.has(id) || this.stopped) return;
    this.inFlight.add(id);
    try {
      const claimed = await this.claim(id);
      if (!claimed) return;
      const { task, seqNo, primaryTerm } = claimed;
      const queue = this.queues.get(task.action);
      const handler = this.handlers.get(task.action);
      if (!queue || !handler) {
        await this.finish(task, seqNo, primaryTerm, { status: 'failed', last_error: `no handler for action "${task.action}"` });
        return;
      }
      await queue.add(async () => {
        let patch: Partial<Task>;
        try {
          const result = await handler(task, { final: Date.now() - Date.parse(task.created_at) >= this.options.retryBudgetMs });
          patch = { status: 'done', result: result ?? undefined, last_error: undefined };
          this.stats.done++;
          this.options.onResult?.(task.action, 'done');
        } catch (err) {
          patch = this.afterFailure(task, err as Error);
        }
        await this.finish(task, seqNo, primaryTerm, patch);
      });
    } catch (err) {
      this.log.warn({ task: id, err: (err as Error).message }, 'outbox task could not be run; it will be retried');
    } finally {
      this.inFlight.delete(id);
    }
  }

  private afterFailure(task: Task, err: Error): Partial<Task> {
    const reason = err.message.slice(0, 1000);
    const age = Date.now() - Date.parse(task.created_at);
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
      current = await this.client.get({ index: OUTBOX_INDEX, id });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const task = current._source as Task;
    const now = Date.now();
    const due = task.status === 'pending' ? Date.parse(task.not_before) <= now : task.status === 'running' && Date.parse(task.lease_until ?? '') <= now;
    if (!due) return undefined;
    const claimed: Task = {
      ...task,
      status: 'running',
      attempts: task.attempts + 1,
      lease_until: new Date(now + (this.options.leaseMs ?? 60_000)).toISOString(),
      claimed_by: this.collectorId,
      updated_at: new Date(now).toISOString(),
    };
    try {
      const res: any = await this.client.index({ index: OUTBOX_INDEX, id, document: claimed, if_seq_no: current._seq_no, if_primary_term: current._primary_term });
      return { task: claimed, seqNo: res._seq_no, primaryTerm: res._primary_term };
    } catch (err) {
      if (isConflict(err)) return undefined; // another collector claimed it
      throw err;
    }
  }

  private async finish(task: Task, seqNo: number, primaryTerm: number, patch: Partial<Task>): Promise<void> {
    const document = { ...task, ...patch, lease_until: undefined, updated_at: new Date().toISOString() };
    try {
      await this.client.index({ index: OUTBOX_INDEX, id: task.id, document, if_seq_no: seqNo, if_primary_term: primaryTerm });
    } catch (err) {
      // Our lease ran out and another collector took the task over: its outcome stands.
      if (!isConflict(err)) throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.queues.values()].map((q) => q.onIdle()));
  }
}
