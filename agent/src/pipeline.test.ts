import { describe, expect, it } from 'vitest';
import { Pipeline, type BodyWriter } from './pipeline.js';
import { BatchBody } from './batch-body.js';
import { gunzipSync } from 'node:zlib';

/** A body that keeps the events as they came (the tests look at order and offsets, not bytes). */
const plainBody = (): BodyWriter => {
  const events: string[] = [];
  return { add: (e) => events.push(e), finish: async () => Buffer.from(`[${events.join(',')}]`) };
};

const ev = (n: number): string => JSON.stringify({ id: String(n), dataset: 'pos', namespace: 'default', doc: {} });

describe('Pipeline', () => {
  it('commits offsets in batch order even when acks arrive out of order', async () => {
    const resolvers: (() => void)[] = [];
    const commits: number[] = [];
    const p = new Pipeline(
      { maxEvents: 1, maxBytes: 1e9, flushIntervalMs: 1000, maxInFlight: 4 },
      plainBody,
      () => new Promise<void>((r) => resolvers.push(r)),
      (_cursor, end) => commits.push(end),
    );
    const cursor = { key: '1:1', path: '/x', generation: 0 };
    for (let i = 1; i <= 3; i++) p.push(ev(i), cursor, i * 100);
    expect(resolvers).toHaveLength(3);
    resolvers[2]();
    resolvers[1]();
    await new Promise((r) => setTimeout(r, 0));
    expect(commits).toEqual([]); // batch 1 not acked yet: nothing may be committed
    resolvers[0]();
    await new Promise((r) => setTimeout(r, 0));
    expect(commits).toEqual([100, 200, 300]);
  });

  it('reports full when too many batches wait, and wakes waiters on ack', async () => {
    const resolvers: (() => void)[] = [];
    const p = new Pipeline({ maxEvents: 1, maxBytes: 1e9, flushIntervalMs: 1000, maxInFlight: 1 }, plainBody, () => new Promise<void>((r) => resolvers.push(r)), () => {});
    const cursor = { key: '1:1', path: '/x', generation: 0 };
    p.push(ev(1), cursor, 1);
    p.push(ev(2), cursor, 2);
    expect(p.full).toBe(true);
    let woke = false;
    const waiting = p.waitForCapacity().then(() => (woke = true));
    resolvers[0]();
    await waiting;
    expect(woke).toBe(true);
  });

  it('a send that fails for another reason than shutdown is sent again, not left blocking every later offset', async () => {
    let attempts = 0;
    const commits: number[] = [];
    const failures: unknown[] = [];
    const p = new Pipeline(
      { maxEvents: 1, maxBytes: 1e9, flushIntervalMs: 1000, maxInFlight: 1 },
      plainBody,
      async () => {
        if (++attempts === 1) throw new Error('encode failed');
      },
      (_cursor, end) => commits.push(end),
      (err) => failures.push(err),
    );
    p.push(ev(1), { key: 'k', path: '/x', generation: 0 }, 100);
    p.push(ev(2), { key: 'k', path: '/x', generation: 0 }, 200);
    expect(await p.drain(5000)).toBe(true);
    expect(commits).toEqual([100, 200]);
    expect(failures).toHaveLength(1);
    expect(p.failures).toBe(1);
  });

  it('batches events into one compressed body, sealed at max_events or max_bytes, in the order they came', async () => {
    const bodies: { text: string; events: number }[] = [];
    const p = new Pipeline(
      { maxEvents: 1000, maxBytes: 200_000, flushIntervalMs: 60_000, maxInFlight: 4 },
      () => new BatchBody('{"events":[', ']}'),
      async (body, { events }) => {
        bodies.push({ text: gunzipSync(await body).toString(), events });
      },
      () => {},
    );
    const cursor = { key: 'k', path: '/x', generation: 0 };
    // 2,500 events of ~120 characters: chunks of compressed text inside each batch, three batches by count.
    for (let i = 0; i < 2500; i++) p.push(JSON.stringify({ id: String(i), doc: { message: `line ${i} ${'x'.repeat(100)}` } }), cursor, i);
    expect(await p.drain(5000)).toBe(true);
    // Batches are sent side by side (max_in_flight): put them back in order by their first event.
    const batches = bodies.map((b) => ({ events: b.events, ids: (JSON.parse(b.text) as { events: { id: string }[] }).events.map((e) => Number(e.id)) })).sort((a, b) => a.ids[0] - b.ids[0]);
    expect(batches.map((b) => [b.events, b.ids.length])).toEqual([[1000, 1000], [1000, 1000], [500, 500]]);
    const ids = batches.flatMap((b) => b.ids);
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  it('marks a batch as a redelivery when any of its lines was handed on before a restart', async () => {
    const sent: { since?: number; events: number }[] = [];
    const p = new Pipeline(
      { maxEvents: 2, maxBytes: 1e9, flushIntervalMs: 60_000, maxInFlight: 1 },
      plainBody,
      async (body, batch) => {
        await body;
        sent.push({ since: batch.redeliverySince, events: batch.events });
      },
      () => {},
      () => {},
      (_cursor, end) => (end <= 200 ? 5000 - end : undefined),
    );
    const cursor = { key: 'k', path: '/x', generation: 0 };
    for (const end of [100, 200, 300, 400]) p.push(ev(end), cursor, end);
    expect(await p.drain(5000)).toBe(true);
    expect(sent).toEqual([
      { since: 4800, events: 2 }, // the earliest of its lines' times
      { since: undefined, events: 2 },
    ]);
  });
});
