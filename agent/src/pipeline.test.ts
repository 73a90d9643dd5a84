import { describe, expect, it } from 'vitest';
import { Pipeline } from './pipeline.js';
import type { WireEvent } from '@stacklens/common';

const ev = (n: number): WireEvent => ({ id: String(n), dataset: 'pos', namespace: 'default', doc: {} });

describe('Pipeline', () => {
  it('commits offsets in batch order even when acks arrive out of order', async () => {
    const resolvers: (() => void)[] = [];
    const commits: number[] = [];
    const p = new Pipeline(
      { maxEvents: 1, maxBytes: 1e9, flushIntervalMs: 1000, maxInFlight: 4 },
      () => new Promise<void>((r) => resolvers.push(r)),
      (_cursor, end) => commits.push(end),
    );
    const cursor = { key: '1:1', path: '/x', generation: 0 };
    for (let i = 1; i <= 3; i++) p.push(ev(i), 10, cursor, i * 100);
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
    const p = new Pipeline({ maxEvents: 1, maxBytes: 1e9, flushIntervalMs: 1000, maxInFlight: 1 }, () => new Promise<void>((r) => resolvers.push(r)), () => {});
    const cursor = { key: '1:1', path: '/x', generation: 0 };
    p.push(ev(1), 10, cursor, 1);
    p.push(ev(2), 10, cursor, 2);
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
      async () => {
        if (++attempts === 1) throw new Error('encode failed');
      },
      (_cursor, end) => commits.push(end),
      (err) => failures.push(err),
    );
    p.push(ev(1), 10, { key: 'k', path: '/x', generation: 0 }, 100);
    p.push(ev(2), 10, { key: 'k', path: '/x', generation: 0 }, 200);
    expect(await p.drain(5000)).toBe(true);
    expect(commits).toEqual([100, 200]);
    expect(failures).toHaveLength(1);
    expect(p.failures).toBe(1);
  });
});
