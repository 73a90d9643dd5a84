// The outbox with collectors configured differently, against the test Elasticsearch (an index
// of its own): a collector claims only what it can run, hands back what it finds it cannot,
// soft needs fall back after their time, and a task nobody running can run stays pending —
// counted, listed with what it waits for — until a collector that can run it starts.
// In the e2e tier (*.es.test.ts: it needs Elasticsearch); the state machine on its own is
// unit-tested in outbox.test.ts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '@stacklens/common';
import { CannotRunHere, Outbox, outboxMappings, type Task } from './outbox.js';

const es = new Client({ node: inject('esUrl') });
const index = `stacklens-outbox-test-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const log = createLogger('outbox-test', 'silent');
const started: Outbox[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A collector's outbox with these capabilities (and rules); `ran` records which task ids its handlers ran. */
function collector(id: string, caps: string[], handlers: Record<string, (t: Task, a: { final: boolean; missing: string[] }) => Promise<Record<string, unknown> | void>> = {}, rules: string[] = []) {
  const ran: { id: string; missing: string[] }[] = [];
  const outbox = new Outbox(es, { retryBudgetMs: 60_000, pollMs: 200, collectorId: id, index }, log);
  outbox.setCapabilities(caps);
  outbox.registry.setRules(() => rules);
  for (const action of ['ticket', 'triage', 'chat_post']) {
    outbox.handle(action, async (t, a) => {
      ran.push({ id: t.id, missing: a.missing });
      return handlers[action]?.(t, a);
    });
  }
  outbox.start();
  started.push(outbox);
  return { outbox, ran };
}

const task = (id: string) => es.get<Task>({ index, id }).then((r) => r._source!);

beforeAll(async () => {
  await es.indices.create({ index, mappings: outboxMappings() as never });
});
afterAll(async () => {
  for (const o of started) await o.stop().catch(() => undefined);
  await es.indices.delete({ index, ignore_unavailable: true });
  await es.close();
});

describe('outbox shared by collectors configured differently', () => {
  it('claims only what each can run; hands back; falls back on soft needs; waits, visibly, for what nobody running can run', async () => {
    const full = collector('full', ['jira', 'llm']);
    const bare = collector('bare', [], {
      // The bare collector finds, running it, that this one needs Jira after all.
      chat_post: async () => {
        throw new CannotRunHere(['jira'], 'Jira is not configured on this collector');
      },
    });
    // Both have beaten: each sees the other.
    await waitFor('both heartbeats', async () => (await bare.outbox.registry.live()).length === 2);

    // Queued by the collector without integrations: the one with them runs them.
    for (let i = 0; i < 5; i++) await bare.outbox.enqueue('ticket', `inc-${i}`, `ticket:inc-${i}`, { needs: ['jira'] });
    await bare.outbox.enqueue('triage', 'inc-0', 'triage:inc-0:1', { needs: ['llm'], fallbackAfterMs: 60_000 });
    await waitFor('six tasks done', async () => (await Promise.all(['triage:inc-0:1', ...[0, 1, 2, 3, 4].map((i) => `ticket:inc-${i}`)].map(task))).every((t) => t.status === 'done'));
    for (const id of ['triage:inc-0:1', ...[0, 1, 2, 3, 4].map((i) => `ticket:inc-${i}`)]) expect(await task(id)).toMatchObject({ status: 'done', claimed_by: 'full', claimants: ['full'], attempts: 1 });
    expect(bare.ran).toEqual([]);

    // A task without needs may run anywhere; the bare collector hands this one back, needing Jira.
    await bare.outbox.enqueue('chat_post', 'inc-9', 'chat_post:inc-9:x');
    const handed = await waitFor('handed back and done', async () => ((await task('chat_post:inc-9:x')).status === 'done' ? task('chat_post:inc-9:x') : undefined));
    expect(handed.needs).toEqual(['jira']);
    expect(handed.claimed_by).toBe('full');
    expect(handed.attempts).toBe(1); // the hand-back is not an attempt
    expect(handed.claimants).toContain('full');

    // Soft needs nobody has: after fallback_after anyone runs it, told what it lacks.
    await bare.outbox.enqueue('triage', 'inc-7', 'triage:inc-7:1', { needs: ['llm', 'xero'], fallbackAfterMs: 800 });
    const fell = await waitFor('the fallback', async () => ((await task('triage:inc-7:1')).status === 'done' ? task('triage:inc-7:1') : undefined));
    const runner = fell.claimed_by === 'full' ? full : bare;
    expect(runner.ran.find((r) => r.id === 'triage:inc-7:1')?.missing).toEqual(fell.claimed_by === 'full' ? ['xero'] : ['llm', 'xero']);

    // The collector with Jira stops: a ticket task waits, counted and listed with what it waits for.
    await full.outbox.stop();
    await bare.outbox.enqueue('ticket', 'inc-8', 'ticket:inc-8', { needs: ['jira'] });
    await waitFor('the ticket counted as unclaimable', async () => {
      await es.indices.refresh({ index });
      return (await bare.outbox.unclaimable()).get('ticket') === 1;
    });
    const listed = await bare.outbox.list({ status: ['pending'], size: 10 });
    expect(listed.tasks).toEqual([expect.objectContaining({ id: 'ticket:inc-8', needs: ['jira'], waiting_for: ['jira'] })]);
    await waitFor('due for a while', async () => ((await bare.outbox.oldestDue()).get('ticket') ?? 0) > 0.2);
    expect((await task('ticket:inc-8')).status).toBe('pending');
    expect(bare.ran.map((r) => r.id)).not.toContain('ticket:inc-8');

    // A collector with Jira starts: it runs it, once.
    const again = collector('full-2', ['jira']);
    await waitFor('the waiting ticket done', async () => (await task('ticket:inc-8')).status === 'done');
    expect(await task('ticket:inc-8')).toMatchObject({ claimed_by: 'full-2', claimants: ['full-2'], attempts: 1 });
    expect(again.ran.filter((r) => r.id === 'ticket:inc-8')).toHaveLength(1);
    await es.indices.refresh({ index });
    expect((await bare.outbox.unclaimable()).get('ticket') ?? 0).toBe(0);
    expect(bare.ran.map((r) => r.id)).toEqual(['chat_post:inc-9:x', ...(fell.claimed_by === 'bare' ? ['triage:inc-7:1'] : [])]);
    await again.outbox.stop();
    await bare.outbox.stop();
  });

  it('a task that fails for good ends failed with the reason, and the failure is told (to be put on the incident)', async () => {
    const told: { id: string; reason: string }[] = [];
    const outbox = new Outbox(es, { retryBudgetMs: 60_000, pollMs: 200, collectorId: 'failing', index, onFailed: async (t, reason) => void told.push({ id: t.id, reason }) }, log);
    started.push(outbox);
    outbox.setCapabilities(['jira']);
    outbox.handle('comment', async () => {
      throw new Error('Jira refused the request (400): comment body is invalid');
    });
    outbox.start();
    await outbox.enqueue('comment', 'inc-f', 'comment:inc-f:1', { needs: ['jira'] });
    await waitFor('the task failed', async () => (await task('comment:inc-f:1')).status === 'failed');
    expect(await task('comment:inc-f:1')).toMatchObject({ status: 'failed', attempts: 1, last_error: 'Jira refused the request (400): comment body is invalid' });
    await waitFor('the failure told', async () => told.length === 1);
    expect(told).toEqual([{ id: 'comment:inc-f:1', reason: 'Jira refused the request (400): comment body is invalid' }]);
    await outbox.stop();
  });

  it("a rule's tasks go to the collectors running it, even when another has what they need", async () => {
    const site = collector('site', ['jira'], {}, ['r1@logs-pos-x']);
    const other = collector('other-site', ['jira'], {}, ['r2@logs-pos-x']);
    await waitFor('both heartbeats', async () => (await other.outbox.registry.live()).length === 2);
    for (let i = 0; i < 4; i++) await other.outbox.enqueue('ticket', `r1-${i}`, `ticket:r1-${i}`, { needs: ['jira'], rule: 'r1@logs-pos-x' });
    await waitFor('the r1 tickets done', async () => (await Promise.all([0, 1, 2, 3].map((i) => task(`ticket:r1-${i}`)))).every((t) => t.status === 'done'));
    for (let i = 0; i < 4; i++) expect(await task(`ticket:r1-${i}`)).toMatchObject({ claimants: ['site'], rule: 'r1@logs-pos-x' });
    expect(other.ran).toEqual([]);
    // Nobody runs r1 any more (the rule was removed): its task is anyone's.
    await site.outbox.stop();
    await waitFor('the site gone', async () => (await other.outbox.registry.live()).length === 1);
    await other.outbox.enqueue('ticket', 'r1-9', 'ticket:r1-9', { needs: ['jira'], rule: 'r1@logs-pos-x' });
    await waitFor('run by the other site', async () => (await task('ticket:r1-9')).status === 'done');
    expect(await task('ticket:r1-9')).toMatchObject({ claimants: ['other-site'] });
  });
});
