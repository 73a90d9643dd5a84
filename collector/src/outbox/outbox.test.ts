// The outbox state machine without Elasticsearch: an in-memory stand-in keeps the documents
// with sequence numbers (create answers 409 on a taken id, a write with a stale if_seq_no
// answers 409) and evaluates the few query clauses the outbox sends (bool, term, terms,
// terms_set, exists, range, match_all) the way Elasticsearch does. The clock (Date only) is
// the test's: not_before, leases and the retry budget are checked by moving it.
// pending → running (claimed, leased) → done | pending again (retry, hand-back) | failed.
// outbox.es.test.ts checks the same outbox shared by collectors on a real Elasticsearch.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { Client } from '@elastic/elasticsearch';
import { createLogger } from '@stacklens/common';
import { CannotRunHere, Outbox, RetryableError, canRun, inScope, missingNeeds, runnableQuery, scopeQuery, type Task, type TaskHandler } from './outbox.js';

const log = createLogger('outbox-test', 'silent');
const T0 = Date.parse('2024-11-16T10:00:00.000Z');

// --- Elasticsearch, in memory -----------------------------------------------------------

const esError = (statusCode: number, type: string) => Object.assign(new Error(type), { meta: { statusCode, body: { error: { type } } } });

/** A field's values as Elasticsearch indexes them: [] for missing, null or an empty array. */
function values(doc: Record<string, unknown>, field: string): unknown[] {
  const v = doc[field];
  return (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined && x !== null);
}

const asNumber = (v: unknown) => (typeof v === 'number' ? v : Date.parse(String(v)));

/** The query clauses the outbox and its registry send, with Elasticsearch's meaning. */
function matches(query: any, doc: Record<string, unknown>): boolean {
  const [kind, body] = Object.entries(query)[0] as [string, any];
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      const all = (cs: any[] = []) => cs.every((c) => matches(c, doc));
      if (!all(body.filter) || !all(body.must) || (body.must_not ?? []).some((c: any) => matches(c, doc))) return false;
      const should: any[] = body.should ?? [];
      const min = body.minimum_should_match ?? (should.length && !body.filter && !body.must ? 1 : 0);
      return should.filter((c) => matches(c, doc)).length >= min;
    }
    case 'term': {
      const [field, v] = Object.entries(body)[0];
      return values(doc, field).includes(v);
    }
    case 'terms': {
      const [field, vs] = Object.entries(body)[0] as [string, unknown[]];
      return values(doc, field).some((x) => vs.includes(x));
    }
    case 'terms_set': {
      // At least minimum_should_match_field of the terms, and at least one: a document with
      // none of them is not visited at all.
      const [field, { terms, minimum_should_match_field }] = Object.entries(body)[0] as [string, { terms: unknown[]; minimum_should_match_field: string }];
      const n = values(doc, field).filter((x) => terms.includes(x)).length;
      return n > 0 && n >= Number(doc[minimum_should_match_field]);
    }
    case 'exists':
      return values(doc, body.field).length > 0;
    case 'range': {
      const [field, r] = Object.entries(body)[0] as [string, Record<string, unknown>];
      return values(doc, field).some((x) => {
        const v = asNumber(x);
        return (r.lte === undefined || v <= asNumber(r.lte)) && (r.lt === undefined || v < asNumber(r.lt)) && (r.gte === undefined || v >= asNumber(r.gte)) && (r.gt === undefined || v > asNumber(r.gt));
      });
    }
    default:
      throw new Error(`query clause ${kind} is not modelled`);
  }
}

class MemoryEs {
  readonly docs = new Map<string, { source: Record<string, any>; seqNo: number }>();
  private seq = 0;
  /** Up to this many milliseconds for each request, at random (0: answers at once). */
  latencyMs = 0;

  private async network(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, Math.random() * this.latencyMs));
  }

  // Stored as JSON, as Elasticsearch does: undefined fields go.
  private store(id: string, document: unknown) {
    this.docs.set(id, { source: JSON.parse(JSON.stringify(document)), seqNo: ++this.seq });
    return { _id: id, _seq_no: this.seq, _primary_term: 1, result: 'created' };
  }
  async create({ id, document }: { id: string; document: unknown }) {
    await this.network();
    if (this.docs.has(id)) throw esError(409, 'version_conflict_engine_exception');
    return this.store(id, document);
  }
  async get({ id }: { id: string }) {
    await this.network();
    const d = this.docs.get(id);
    if (!d) throw esError(404, 'not_found');
    return { _id: id, found: true, _source: structuredClone(d.source), _seq_no: d.seqNo, _primary_term: 1 };
  }
  async index({ id, document, if_seq_no }: { id: string; document: Record<string, any>; if_seq_no?: number }) {
    await this.network();
    if (if_seq_no !== undefined && this.docs.get(id)?.seqNo !== if_seq_no) throw esError(409, 'version_conflict_engine_exception');
    return this.store(id, document);
  }
  async search({ query = { match_all: {} }, sort = [], size = 10, aggs }: { query?: object; sort?: Record<string, any>[]; size?: number; aggs?: unknown }) {
    if (aggs) throw new Error('aggregations are not modelled');
    await this.network();
    let hits = [...this.docs].map(([id, d]) => ({ _id: id, _source: structuredClone(d.source) })).filter((h) => matches(query, h._source));
    for (const s of [...sort].reverse()) {
      const [field, o] = Object.entries(s)[0];
      const dir = (typeof o === 'string' ? o : o.order) === 'desc' ? -1 : 1;
      hits = hits.sort((a, b) => dir * (asNumber(a._source[field]) - asNumber(b._source[field])));
    }
    return { hits: { total: { value: hits.length }, hits: hits.slice(0, size) } };
  }
  async bulk() {
    return { errors: false, items: [] };
  }
  readonly indices = { putMapping: async () => ({ acknowledged: true }), refresh: async () => ({}) };

  task(id: string): Task {
    return this.docs.get(id)?.source as Task;
  }
  get client(): Client {
    return this as unknown as Client;
  }
}

// --- helpers ----------------------------------------------------------------------------

/** Waits (on real timers: the test's clock stands still) until `cond` holds. */
async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

const now = () => Date.now();
const advance = (ms: number) => vi.setSystemTime(now() + ms);

let es: MemoryEs;
const started: Outbox[] = [];
const results: string[] = [];
const failures: { id: string; reason: string }[] = [];

function outbox(id: string, caps: string[], handlers: Record<string, TaskHandler>, opts: { retryBudgetMs?: number; concurrency?: Record<string, number>; leaseMs?: number } = {}): Outbox {
  const o = new Outbox(
    es.client,
    {
      retryBudgetMs: opts.retryBudgetMs ?? 60_000,
      leaseMs: opts.leaseMs ?? 30_000,
      pollMs: 10,
      collectorId: id,
      index: 'outbox-test',
      concurrency: opts.concurrency,
      onResult: (action, result) => results.push(`${action}:${result}`),
      onFailed: async (t, reason) => void failures.push({ id: t.id, reason }),
    },
    log,
  );
  o.setCapabilities(caps);
  for (const [action, h] of Object.entries(handlers)) o.handle(action, h);
  o.start();
  started.push(o);
  return o;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  es = new MemoryEs();
  results.length = 0;
  failures.length = 0;
});
afterEach(async () => {
  for (const o of started.splice(0)) await o.stop();
  vi.useRealTimers();
});

// --- the pure parts ---------------------------------------------------------------------

describe('needs and capabilities', () => {
  it('a task may be claimed by a collector that has all it needs, or by anyone once its soft needs expired', () => {
    expect(canRun({ needs: [] }, [])).toBe(true);
    expect(canRun({ needs: ['jira'] }, ['jira', 'llm'])).toBe(true);
    expect(canRun({ needs: ['llm', 'xero'] }, ['llm'])).toBe(false);
    expect(missingNeeds({ needs: ['llm', 'xero'] }, ['llm'])).toEqual(['xero']);
    expect(canRun({ needs: ['llm'], fallback_after: new Date(now() + 60_000).toISOString() }, [])).toBe(false);
    expect(canRun({ needs: ['llm'], fallback_after: new Date(now()).toISOString() }, [])).toBe(true);
  });

  it("a rule's task is for the collectors running the rule while one runs; for anyone once none does", () => {
    const live = new Set(['a@logs-pos-x', 'b@logs-pos-x']);
    expect(inScope({ rule: 'a@logs-pos-x' }, new Set(['a@logs-pos-x']), live)).toBe(true);
    expect(inScope({ rule: 'a@logs-pos-x' }, new Set(['b@logs-pos-x']), live)).toBe(false);
    expect(inScope({ rule: 'gone@logs-pos-x' }, new Set(['b@logs-pos-x']), live)).toBe(true);
    expect(inScope({}, new Set(), live)).toBe(true);
  });

  it('the query forms (what the poll asks Elasticsearch for) agree with canRun and inScope', () => {
    const caps = fc.uniqueArray(fc.constantFrom('llm', 'jira', 'xero', 'slack', 'slack:T1', 'mattermost'), { maxLength: 4 });
    const rules = fc.uniqueArray(fc.constantFrom('r1@logs-pos-a', 'r2@logs-pos-a', 'r3@logs-pos-b'), { maxLength: 3 });
    fc.assert(
      fc.property(caps, caps, fc.option(fc.integer({ min: -5_000, max: 5_000 }), { nil: undefined }), (needs, have, fallbackIn) => {
        const sorted = [...needs].sort();
        const task: Partial<Task> = { needs: sorted, needs_count: sorted.length, ...(fallbackIn !== undefined && sorted.length ? { fallback_after: new Date(now() + fallbackIn).toISOString() } : {}) };
        expect(matches(runnableQuery(have, now()), task as never)).toBe(canRun(task, have, now()));
      }),
    );
    fc.assert(
      fc.property(fc.option(fc.constantFrom('r1@logs-pos-a', 'r2@logs-pos-a', 'r3@logs-pos-b', 'gone@logs-pos-a'), { nil: undefined }), rules, rules, (rule, mine, others) => {
        const live = new Set([...mine, ...others]);
        const task = rule ? { rule } : {};
        expect(matches(scopeQuery(new Set(mine), live), task)).toBe(inScope(task, new Set(mine), live));
      }),
    );
  });
});

// --- the state machine ------------------------------------------------------------------

describe('outbox state machine', () => {
  it('pending → running (claimed, leased, attempt counted) → done with the result; enqueueing the same id again is a no-op', async () => {
    const inHandler = deferred();
    const release = deferred();
    const seen: { task: Task; final: boolean; missing: string[] }[] = [];
    const o = outbox('c1', ['jira'], {
      ticket: async (task, attempt) => {
        seen.push({ task, ...attempt });
        inHandler.resolve();
        await release.promise;
        return { key: 'OPS-1' };
      },
    });
    expect(await o.enqueue('ticket', 'inc-1', 'ticket:inc-1', { needs: ['jira'] })).toBe(true);
    await inHandler.promise;
    expect(es.task('ticket:inc-1')).toMatchObject({
      status: 'running',
      attempts: 1,
      claimed_by: 'c1',
      claimants: ['c1'],
      lease_until: new Date(T0 + 30_000).toISOString(),
      started_at: new Date(T0).toISOString(),
      needs: ['jira'],
      needs_count: 1,
      queued_by: 'c1',
    });
    expect(seen).toEqual([{ task: expect.objectContaining({ id: 'ticket:inc-1', status: 'running' }), final: false, missing: [] }]);
    // The same work queued again (another collector, a replay): nothing new.
    expect(await o.enqueue('ticket', 'inc-1', 'ticket:inc-1', { needs: ['jira'] })).toBe(false);
    release.resolve();
    await until('done', () => es.task('ticket:inc-1')?.status === 'done');
    const done = es.task('ticket:inc-1');
    expect(done).toMatchObject({ status: 'done', attempts: 1, result: { key: 'OPS-1' } });
    expect(done.lease_until).toBeUndefined();
    expect(done.last_error).toBeUndefined();
    expect(o.stats).toEqual({ enqueued: 1, done: 1, failed: 0, retries: 0, handedBack: 0 });
    expect(results).toEqual(['ticket:done']);
    expect(seen).toHaveLength(1);
  });

  it('a retryable failure goes back to pending with a jittered, growing backoff, honours Retry-After, and is not run before it is due', async () => {
    let calls = 0;
    const errorsToThrow = [new RetryableError('Jira 503'), new RetryableError('Jira 503'), new RetryableError('Jira 429', 5_000)];
    const o = outbox('c1', [], {
      ticket: async () => {
        calls++;
        const err = errorsToThrow.shift();
        if (err) throw err;
        return { ok: true };
      },
    });
    await o.enqueue('ticket', 'inc-2', 'ticket:inc-2');
    // Attempt 1 fails: backoff 500 ms, half of it jitter.
    await until('retry 1', () => es.task('ticket:inc-2')?.status === 'pending' && es.task('ticket:inc-2').attempts === 1);
    let t = es.task('ticket:inc-2');
    expect(t.last_error).toBe('Jira 503');
    let delay = Date.parse(t.not_before) - now();
    expect(delay).toBeGreaterThanOrEqual(250);
    expect(delay).toBeLessThanOrEqual(500);
    // Not due yet: polls (every 10 ms) leave it alone.
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(1);
    advance(delay);
    // Attempt 2 fails: backoff 1 s.
    await until('retry 2', () => es.task('ticket:inc-2').attempts === 2 && es.task('ticket:inc-2').status === 'pending');
    t = es.task('ticket:inc-2');
    delay = Date.parse(t.not_before) - now();
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
    advance(delay);
    // Attempt 3: 429 with Retry-After 5 s, longer than the 2 s backoff: Retry-After wins.
    await until('retry 3', () => es.task('ticket:inc-2').attempts === 3 && es.task('ticket:inc-2').status === 'pending');
    expect(Date.parse(es.task('ticket:inc-2').not_before) - now()).toBe(5_000);
    advance(4_999);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(3);
    advance(1);
    await until('done', () => es.task('ticket:inc-2').status === 'done');
    expect(es.task('ticket:inc-2')).toMatchObject({ status: 'done', attempts: 4, result: { ok: true } });
    expect(es.task('ticket:inc-2').last_error).toBeUndefined();
    expect(o.stats).toMatchObject({ done: 1, retries: 3, failed: 0 });
    expect(results).toEqual(['ticket:retry', 'ticket:retry', 'ticket:retry', 'ticket:done']);
  });

  it('the backoff doubles up to 60 s', async () => {
    const o = outbox('c1', [], {
      ticket: async () => {
        throw new RetryableError('still down');
      },
    }, { retryBudgetMs: 3_600_000 });
    await o.enqueue('ticket', 'inc-3', 'ticket:inc-3');
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      await until(`attempt ${attempt}`, () => es.task('ticket:inc-3').attempts === attempt && es.task('ticket:inc-3').status === 'pending');
      const delay = Date.parse(es.task('ticket:inc-3').not_before) - now();
      delays.push(delay);
      advance(delay);
    }
    delays.forEach((d, i) => {
      const backoff = Math.min(60_000, 500 * 2 ** i);
      expect(d, `attempt ${i + 1}`).toBeGreaterThanOrEqual(backoff / 2);
      expect(d, `attempt ${i + 1}`).toBeLessThanOrEqual(backoff);
    });
    expect(delays[9]).toBeGreaterThanOrEqual(30_000);
  });

  it('the retry budget counts from the first attempt, not the queueing; the last attempt is told it is final; then failed with the reason', async () => {
    const attempts: { final: boolean; at: number }[] = [];
    const o = outbox('c1', [], {
      ticket: async (_t, a) => {
        attempts.push({ final: a.final, at: now() });
        throw new RetryableError('Jira 503');
      },
    }, { retryBudgetMs: 10_000 });
    // Queued while nobody here can run it; waits twice the budget.
    await o.enqueue('ticket', 'inc-4', 'ticket:inc-4', { needs: ['jira'] });
    advance(20_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toEqual([]);
    o.setCapabilities(['jira']);
    await until('attempt 1', () => attempts.length === 1);
    await until('retry 1', () => es.task('ticket:inc-4').status === 'pending');
    expect(es.task('ticket:inc-4')).toMatchObject({ attempts: 1, started_at: new Date(T0 + 20_000).toISOString() });
    expect(attempts[0].final).toBe(false);
    // Past the budget (from the first attempt): the next attempt is the final one, and its failure is for good.
    advance(10_000);
    await until('failed', () => es.task('ticket:inc-4').status === 'failed');
    expect(attempts.map((a) => a.final)).toEqual([false, true]);
    expect(es.task('ticket:inc-4')).toMatchObject({ status: 'failed', attempts: 2, last_error: 'retry budget spent: Jira 503' });
    await until('told', () => failures.length === 1);
    expect(failures).toEqual([{ id: 'ticket:inc-4', reason: 'retry budget spent: Jira 503' }]);
    expect(results).toEqual(['ticket:retry', 'ticket:failed']);
    // Failed is final: polls never claim it again.
    advance(3_600_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toHaveLength(2);
  });

  it('an error that is not retryable fails the task at the first attempt; an action without a handler fails too', async () => {
    const o = outbox('c1', [], {
      comment: async () => {
        throw new Error('Jira refused the request (400): comment body is invalid');
      },
    });
    await o.enqueue('comment', 'inc-5', 'comment:inc-5:1');
    await o.enqueue('transition', 'inc-5', 'transition:inc-5:1');
    await until('both failed', () => es.task('comment:inc-5:1')?.status === 'failed' && es.task('transition:inc-5:1')?.status === 'failed');
    expect(es.task('comment:inc-5:1')).toMatchObject({ attempts: 1, last_error: 'Jira refused the request (400): comment body is invalid' });
    expect(es.task('transition:inc-5:1')).toMatchObject({ attempts: 1, last_error: 'no handler for action "transition"' });
    await until('told', () => failures.length === 2);
    expect(failures.map((f) => f.id).sort()).toEqual(['comment:inc-5:1', 'transition:inc-5:1']);
    expect(o.stats).toMatchObject({ failed: 2, retries: 0, done: 0 });
  });

  it('CannotRunHere hands the task back needing more, the attempt not counted; thrown where the needs are present, it is a retry', async () => {
    let runs = 0;
    const o = outbox('bare', [], {
      chat_post: async () => {
        runs++;
        throw new CannotRunHere(['slack:T1'], 'Slack workspace T1 is not configured here');
      },
    });
    // The payload (what the handler needs) is kept as it was queued, through hand-backs and retries.
    const payload = { platform: 'slack', workspace: 'T1', channel: '#oncall' };
    await o.enqueue('chat_post', 'inc-6', 'chat_post:inc-6:x', { payload });
    await until('handed back', () => es.task('chat_post:inc-6:x')?.needs?.length === 1);
    const t = es.task('chat_post:inc-6:x');
    expect(t).toMatchObject({ payload, status: 'pending', needs: ['slack:T1'], needs_count: 1, attempts: 0, claimants: ['bare'], last_error: 'handed back by bare: Slack workspace T1 is not configured here' });
    expect(t.started_at).toBeUndefined(); // the retry budget starts afresh where it can run
    expect(o.stats.handedBack).toBe(1);
    expect(results).toEqual(['chat_post:handed_back']);
    // This collector cannot run it now: it is left alone.
    advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(1);

    // A collector that has slack:T1 yet finds it cannot run it: a retry, not a hand-back to itself.
    const o2 = outbox('slacky', ['slack:T1'], {
      chat_post: async () => {
        throw new CannotRunHere(['slack:T1'], 'the bot token was revoked');
      },
    });
    await until('retried by slacky', () => es.task('chat_post:inc-6:x').attempts === 1 && es.task('chat_post:inc-6:x').status === 'pending' && es.task('chat_post:inc-6:x').claimed_by === 'slacky');
    expect(es.task('chat_post:inc-6:x')).toMatchObject({ payload, needs: ['slack:T1'], last_error: 'the bot token was revoked', claimants: ['bare', 'slacky'] });
    expect(o2.stats).toMatchObject({ retries: 1, handedBack: 0 });
  });

  it("a running task whose lease ran out (its collector died) is taken over; one whose lease holds is not", async () => {
    const ran: string[] = [];
    const base = { action: 'ticket', attempts: 1, needs: [], needs_count: 0, created_at: new Date(T0).toISOString(), updated_at: new Date(T0).toISOString(), not_before: new Date(T0).toISOString(), started_at: new Date(T0).toISOString(), claimed_by: 'dead', claimants: ['dead'] };
    await es.create({ id: 'ticket:leased', document: { ...base, id: 'ticket:leased', incident_id: 'inc-7', status: 'running', lease_until: new Date(T0 + 60_000).toISOString() } });
    await es.create({ id: 'ticket:expired', document: { ...base, id: 'ticket:expired', incident_id: 'inc-8', status: 'running', lease_until: new Date(T0 - 1).toISOString() } });
    outbox('c2', [], { ticket: async (t) => void ran.push(t.id) });
    await until('the expired one taken over', () => es.task('ticket:expired').status === 'done');
    expect(es.task('ticket:expired')).toMatchObject({ claimed_by: 'c2', claimants: ['dead', 'c2'], attempts: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual(['ticket:expired']);
    expect(es.task('ticket:leased')).toMatchObject({ status: 'running', claimed_by: 'dead' });
    advance(60_000);
    await until('the other one too, once its lease ran out', () => es.task('ticket:leased').status === 'done');
    expect(ran).toEqual(['ticket:expired', 'ticket:leased']);
  });

  it('an outcome written after another collector took the task over is dropped: the other outcome stands, and no failure is told', async () => {
    const inHandler = deferred();
    const release = deferred();
    const o = outbox('slow', [], {
      ticket: async () => {
        inHandler.resolve();
        await release.promise;
        throw new Error('refused');
      },
    });
    await o.enqueue('ticket', 'inc-9', 'ticket:inc-9');
    await inHandler.promise;
    // Meanwhile the lease ran out and another collector claimed the task and finished it.
    const claimed = await es.get({ id: 'ticket:inc-9' });
    await es.index({ id: 'ticket:inc-9', document: { ...claimed._source, status: 'done', claimed_by: 'fast', claimants: ['slow', 'fast'], attempts: 2 }, if_seq_no: claimed._seq_no });
    release.resolve();
    await until('the slow outcome written or dropped', () => results.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(es.task('ticket:inc-9')).toMatchObject({ status: 'done', claimed_by: 'fast', attempts: 2 });
    expect(failures).toEqual([]);
  });

  it('two collectors racing for the same tasks: each task is claimed and run by exactly one', async () => {
    // With a network's latency, both read a task as pending before either writes its claim.
    es.latencyMs = 3;
    const ids = Array.from({ length: 20 }, (_, i) => `ticket:race-${i}`);
    for (const id of ids) await es.create({ id, document: { id, action: 'ticket', incident_id: id, status: 'pending', attempts: 0, needs: [], needs_count: 0, not_before: new Date(T0).toISOString(), created_at: new Date(T0).toISOString(), updated_at: new Date(T0).toISOString() } });
    const ran: string[] = [];
    const handler: TaskHandler = async (t) => {
      ran.push(t.id);
      await new Promise((r) => setTimeout(r, 5));
    };
    const a = outbox('a', [], { ticket: handler }, { concurrency: { ticket: 20 } });
    const b = outbox('b', [], { ticket: handler }, { concurrency: { ticket: 20 } });
    await until('all done', () => ids.every((id) => es.task(id)?.status === 'done'), 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(ran.sort()).toEqual([...ids].sort());
    for (const id of ids) expect(es.task(id)).toMatchObject({ attempts: 1, claimants: [es.task(id).claimed_by] });
    expect(a.stats.done + b.stats.done).toBe(20);
  });

  it('claims only what can start now: with concurrency 1, a second task stays pending (not leased) until the first is done', async () => {
    const release = deferred();
    const order: string[] = [];
    const o = outbox('c1', [], {
      triage: async (t) => {
        order.push(t.id);
        if (t.id === 'triage:first') await release.promise;
      },
    }, { concurrency: { triage: 1 } });
    await o.enqueue('triage', 'inc-10', 'triage:first');
    await until('first running', () => order.length === 1);
    await o.enqueue('triage', 'inc-11', 'triage:second');
    await new Promise((r) => setTimeout(r, 100));
    expect(es.task('triage:second')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(es.task('triage:second').claimed_by).toBeUndefined();
    release.resolve();
    await until('second done', () => es.task('triage:second').status === 'done');
    expect(order).toEqual(['triage:first', 'triage:second']);
  });

  it('soft needs: nobody else has them, so after fallback_after this collector runs the task and is told what it lacks', async () => {
    const told: string[][] = [];
    const o = outbox('c1', ['jira'], { triage: async (_t, a) => void told.push(a.missing) });
    await o.enqueue('triage', 'inc-12', 'triage:inc-12:1', { needs: ['llm', 'jira'], fallbackAfterMs: 30_000 });
    expect(es.task('triage:inc-12:1')).toMatchObject({ needs: ['jira', 'llm'], needs_count: 2, fallback_after: new Date(T0 + 30_000).toISOString() });
    advance(29_999);
    await new Promise((r) => setTimeout(r, 50));
    expect(told).toEqual([]);
    advance(1);
    await until('run', () => told.length === 1);
    expect(told).toEqual([['llm']]);
  });
});
