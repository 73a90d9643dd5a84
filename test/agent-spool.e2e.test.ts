// The disk spool through the agent CLI: the collector is away, the agent keeps reading into
// its spool (and commits offsets once spooled), survives SIGKILL, stops reading when the
// spool is full, and delivers everything exactly once when the collector comes back.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, inject } from 'vitest';
import { count, esClient, expectMessagesOnce, freePort, sleep, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';

const es = esClient(inject('esUrl'));
const running: (AgentHandle | CollectorHandle)[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(6, '0')} some log text to make the line a bit longer than a few bytes`);
const append = (path: string, ls: string[]) => appendFileSync(path, ls.map((l) => `${l}\n`).join(''));
const spoolFiles = (dir: string) => readdirSync(join(dir, 'state', 'spool')).filter((f) => f.endsWith('.batch'));
const committed = (dir: string) => {
  try {
    return Object.values(JSON.parse(readFileSync(join(dir, 'state', 'registry.json'), 'utf8')).files).reduce((n: number, f: any) => n + f.offset, 0);
  } catch {
    return 0;
  }
};

function setup(maxBytes: string, token: string, port: number) {
  const dir = tempDir();
  const ns = uniqueNamespace();
  mkdirSync(join(dir, 'logs'));
  const yaml = `id: spool-${ns}\nstate_dir: ./state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: ${token}\nbatch:\n  flush_interval: 100ms\n  max_events: 500\nspool:\n  max_bytes: ${maxBytes}\ninputs:\n  - paths: ["./logs/*.log"]\n    format: plain\n    dataset: app\n    namespace: ${ns}\n`;
  return { dir, ns, index: `logs-app-${ns}`, yaml, log: join(dir, 'logs', 'app.log') };
}

describe('disk spool', () => {
  it('keeps reading into the spool while the collector is away, across an agent SIGKILL, then delivers exactly once', async () => {
    const port = await freePort();
    const token = 'spool-agent-token-1';
    const t = setup('64MiB', token, port);
    const agent = startAgent(t.dir, t.yaml);
    running.push(agent);
    append(t.log, lines('before', 3000));
    // Offsets are committed once the batches are safely spooled, although nothing was acknowledged.
    await waitFor('the spool to take every line', async () => committed(t.dir) === statSync(t.log).size, 20_000);
    expect(spoolFiles(t.dir).length).toBeGreaterThan(0);

    await agent.stop('SIGKILL');
    agent.restart();
    append(t.log, lines('after', 1000));
    await waitFor('the new lines to be spooled too', async () => committed(t.dir) === statSync(t.log).size, 20_000);

    const collector = await startCollector(inject('esUrl'), { port, token });
    running.push(collector);
    await waitFor('4,000 documents', async () => (await count(es, t.index)) >= 4000, 60_000, 500);
    // Every line spooled (offsets commit once spooled) and the spool drained (a batch leaves it
    // once acknowledged): nothing is in flight, so what Elasticsearch holds now is final.
    await waitFor('every line spooled and the spool empty', async () => committed(t.dir) === statSync(t.log).size && spoolFiles(t.dir).length === 0, 20_000);
    await expectMessagesOnce(es, t.index, [...lines('before', 3000), ...lines('after', 1000)]);
  });

  it('stops reading when the spool is full (backpressure) and resumes when the collector returns; nothing dropped', async () => {
    const port = await freePort();
    const token = 'spool-agent-token-2';
    const t = setup('16KiB', token, port);
    const agent = startAgent(t.dir, t.yaml);
    running.push(agent);
    append(t.log, lines('bp', 30_000));
    const spooled = () => spoolFiles(t.dir).reduce((n, f) => n + statSync(join(t.dir, 'state', 'spool', f)).size, 0);
    await waitFor('the spool to fill up', async () => spooled() >= 16 * 1024 - 4096, 30_000);
    // A fixed wait is right here and below: what is asserted is that reading makes no progress
    // over time (backpressure); there is no event to wait for when nothing happens.
    await sleep(1500); // let the pipeline fill up behind the full spool
    const stuck = committed(t.dir);
    expect(stuck).toBeLessThan(statSync(t.log).size); // the agent stopped reading
    expect(spooled()).toBeLessThan(16 * 1024 + 64 * 1024); // the limit, plus at most one batch admitted into an empty spool
    await sleep(1500);
    expect(committed(t.dir)).toBe(stuck); // and stays stopped

    const collector = await startCollector(inject('esUrl'), { port, token });
    running.push(collector);
    await waitFor('30,000 documents', async () => (await count(es, t.index)) >= 30_000, 90_000, 500);
    await waitFor('every line spooled and the spool empty', async () => committed(t.dir) === statSync(t.log).size && spoolFiles(t.dir).length === 0, 30_000);
    await expectMessagesOnce(es, t.index, lines('bp', 30_000));
  });
});
