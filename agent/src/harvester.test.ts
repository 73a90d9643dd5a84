import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, type WireEvent } from '@stacklens/common';
import { agentConfigSchema } from './config.js';
import { EventBuilder } from './event-builder.js';
import { fingerprintOf } from './file-identity.js';
import { Harvester, READ_CHUNK_BYTES, inodeKey } from './harvester.js';

/** Every event a harvester ships for the file, read with the default read chunk until `count` arrived. */
async function harvest(lines: string[], maxLineBytes: number, count = lines.length): Promise<WireEvent[]> {
  const dir = mkdtempSync(join(tmpdir(), 'harvester-'));
  try {
    const path = join(dir, 'app.log');
    writeFileSync(path, lines.join('\n') + '\n');
    const input = agentConfigSchema.parse({
      collector: { url: 'http://localhost:1', token: 'xxxxxxxxxxxxxxxxxxxx' },
      inputs: [{ paths: [join(dir, '*.log')], format: 'plain', dataset: 'app' }],
    }).inputs[0];
    const shipped: WireEvent[] = [];
    const sink = { full: false, waitForCapacity: async () => {}, push: (e: string) => shipped.push(JSON.parse(e) as WireEvent) };
    const head = readFileSync(path).subarray(0, 1024);
    const h = new Harvester(path, inodeKey(statSync(path, { bigint: true })), async () => ({ identity: 'app', fp: fingerprintOf(head, true)!, offset: 0, generation: 0 }), new EventBuilder('a', 'h', input), sink, { maxLineBytes, pollMs: 10 }, createLogger('test', 'silent'));
    const run = h.run();
    for (let i = 0; i < 500 && shipped.length < count; i++) await new Promise((r) => setTimeout(r, 10));
    h.stop();
    await run;
    return shipped;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('harvester read chunks', () => {
  it('reads lines longer than its read chunk whole, and the short lines after them, in order', async () => {
    const long = (n: number, c: string) => `${c}${c.repeat(n - 2)}$`;
    const lines = ['first', long(READ_CHUNK_BYTES + 7, 'a'), 'between', long(3 * READ_CHUNK_BYTES + 1, 'b'), long(10 * READ_CHUNK_BYTES, 'c'), ...Array.from({ length: 100_000 }, (_, i) => `short line ${i}`), 'last'];
    const shipped = await harvest(lines, 1 << 20);
    expect(shipped.map((e) => e.doc.message)).toEqual(lines);
    expect(shipped.every((e) => e.doc.log && !(e.doc.log as { flags?: string[] }).flags)).toBe(true);
  });

  it('cuts a line over max_line_bytes (flagged truncated) and reads the next lines as before', async () => {
    const lines = ['before', 'x'.repeat(5 * READ_CHUNK_BYTES), 'after', 'y'.repeat(100), 'end'];
    const shipped = await harvest(lines, 2 * READ_CHUNK_BYTES);
    expect(shipped.map((e) => e.doc.message)).toEqual(['before', 'x'.repeat(2 * READ_CHUNK_BYTES), 'after', 'y'.repeat(100), 'end']);
    expect((shipped[1].doc.log as { flags?: string[] }).flags).toEqual(['truncated']);
  });
});
