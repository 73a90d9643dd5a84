import { mkdtempSync, rmSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

const log = { info() {}, warn() {}, error() {}, debug() {}, child() { return log; } } as never;

describe('Spool', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a take that waits for data leaves no listener on the agent-long abort signal (outside tester, 2026-12-03: one per batch, a leak)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    dirs.push(dir);
    const spool = new Spool(dir, 1 << 20, log);
    const senders = new AbortController();
    for (let i = 0; i < 50; i++) {
      const waiting = spool.take(senders.signal);
      await spool.append(Buffer.from(`batch ${i}`), 1);
      const taken = await waiting;
      expect(taken?.body.toString()).toBe(`batch ${i}`);
      await spool.done(taken!.entry);
    }
    expect(getEventListeners(senders.signal, 'abort')).toHaveLength(0);
    // and a waiting take still ends when the signal aborts
    const waiting = spool.take(senders.signal);
    expect(getEventListeners(senders.signal, 'abort')).toHaveLength(1);
    senders.abort();
    expect(await waiting).toBeUndefined();
  });
});
