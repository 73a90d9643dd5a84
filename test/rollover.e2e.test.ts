// Exactly once across a data stream rollover. `op_type: create` refuses a second copy of an
// _id only within the write index; a batch that reached Elasticsearch, then a rollover, then
// the same batch again (the agent retrying after losing the answer, or re-reading after a
// restart) would be created twice — once per backing index. The agent marks such batches and
// the collector looks their ids up across every backing index first. A proxy between agent
// and collector loses the answer at the right moment while the test forces the rollover.
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { REDELIVERY_HEADER } from '@stacklens/common';
import { posTrafficLine, rng } from '@stacklens/demo';
import { acknowledged, count, esClient, expectExactlyOnce, LogWriter, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: AgentHandle[] = [];
let collector: CollectorHandle;

/**
 * Forwards agent batches to the collector. `next` decides what happens to the next batch after
 * the collector has indexed it: 'pass' relays the answer; 'drop' runs `between` then cuts the
 * connection (the agent never learns it was accepted); 'hold' runs `between` and never answers.
 */
class AnswerLosingProxy {
  next: 'pass' | 'drop' | 'hold' = 'pass';
  between: () => Promise<void> = async () => {};
  readonly seen: { redelivery: boolean; since: number; body: Buffer; headers: Record<string, string> }[] = [];
  private readonly held: ServerResponse[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const k of ['authorization', 'content-type', 'content-encoding', 'x-request-id', REDELIVERY_HEADER]) if (req.headers[k]) headers[k] = String(req.headers[k]);
    this.seen.push({ redelivery: headers[REDELIVERY_HEADER] !== undefined, since: Number(headers[REDELIVERY_HEADER]), body, headers });
    const answer = await fetch(this.target + req.url, { method: req.method, headers, body });
    const text = await answer.text();
    const mode = this.next;
    this.next = 'pass';
    if (mode === 'pass') {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(text);
      return;
    }
    expect(answer.status).toBe(200); // the batch did reach Elasticsearch
    await this.between();
    if (mode === 'drop') req.socket.destroy();
    else this.held.push(res);
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const proxies: AnswerLosingProxy[] = [];

afterEach(async () => {
  for (const a of running.splice(0)) await a.stop('SIGKILL');
  for (const p of proxies.splice(0)) await p.stop();
});

afterAll(async () => {
  await collector?.stop('SIGKILL');
});

async function setUp(): Promise<{ ns: string; dir: string; pos: LogWriter; proxy: AnswerLosingProxy; stream: string; agent: () => AgentHandle }> {
  collector ??= await startCollector(esUrl);
  const ns = uniqueNamespace();
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const proxy = new AnswerLosingProxy(collector.url);
  await proxy.start();
  proxies.push(proxy);
  const pos = new LogWriter(join(dir, 'logs', 'pos.log'));
  const rand = rng(7);
  // Written before the agent starts: one batch holds them all.
  pos.append(Array.from({ length: 200 }, () => posTrafficLine(rand, 0.05, new Date())));
  const yaml = `id: rollover-${ns}\nstate_dir: ./state\ncollector:\n  url: ${proxy.url}\n  token: \${TEST_AGENT_TOKEN}\n  timeout: 60s\nbatch:\n  flush_interval: 200ms\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`;
  const agent = () => {
    const a = startAgent(dir, yaml, { TEST_AGENT_TOKEN: collector.token });
    running.push(a);
    return a;
  };
  return { ns, dir, pos, proxy, stream: `logs-pos-${ns}`, agent };
}

async function backingIndices(stream: string): Promise<string[]> {
  const res = await es.indices.resolveIndex({ name: stream, expand_wildcards: 'all' });
  return res.data_streams.find((d) => d.name === stream)?.backing_indices ?? [];
}

async function redeliveredFound(): Promise<number> {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  return Number(/^stacklens_collector_redelivered_found_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('exactly once across a data stream rollover', () => {
  it('a batch whose answer was lost, retried after a rollover, is not indexed again in the new backing index', async () => {
    const { dir, pos, proxy, stream, agent } = await setUp();
    const foundBefore = await redeliveredFound();
    proxy.next = 'drop';
    proxy.between = async () => {
      await es.indices.rollover({ alias: stream });
    };
    agent();
    await waitFor('the log acknowledged to its end', async () => acknowledged(dir, [pos.path]), 60_000, 200);
    expect(await backingIndices(stream)).toHaveLength(2);
    await expectExactlyOnce(es, stream, [pos]);
    // The first attempt was plain; the retry said it may have been delivered, and the collector found every line.
    expect(proxy.seen.map((s) => s.redelivery)).toEqual([false, true]);
    expect((await redeliveredFound()) - foundBefore).toBe(pos.lines.length);

    // The hole this closes: the same batch, sent again unmarked after the rollover, is created a second time.
    const replay = proxy.seen[0];
    const { [REDELIVERY_HEADER]: _marked, ...unmarked } = replay.headers;
    const res = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: unmarked, body: replay.body });
    expect((await res.json()).indexed).toBe(pos.lines.length);
    expect(await count(es, stream)).toBe(2 * pos.lines.length);
  });

  it('an agent killed after its batch was indexed and the stream rolled over re-reads the lines and does not double them', async () => {
    const { dir, pos, proxy, stream, agent } = await setUp();
    proxy.next = 'hold';
    let first: AgentHandle | undefined;
    let killed = false;
    proxy.between = async () => {
      await es.indices.rollover({ alias: stream });
      await first!.stop('SIGKILL'); // before any answer: its registry never moved
      killed = true;
    };
    first = agent();
    await waitFor('the held batch indexed and the agent killed', async () => killed, 60_000, 200);
    expect(proxy.seen).toHaveLength(1);
    expect(await count(es, stream)).toBe(pos.lines.length);
    agent(); // restarted: reads the file again from offset 0
    await waitFor('the log acknowledged to its end', async () => acknowledged(dir, [pos.path]), 60_000, 200);
    expect(await backingIndices(stream)).toHaveLength(2);
    await expectExactlyOnce(es, stream, [pos]);
    expect(proxy.seen.map((s) => s.redelivery)).toEqual([false, true]);

    // Lines the agent never sent before the kill are new: written now, they go unmarked (no lookup cost).
    const rand = rng(8);
    pos.append(Array.from({ length: 20 }, () => posTrafficLine(rand, 0.05, new Date())));
    await waitFor('the new lines acknowledged', async () => acknowledged(dir, [pos.path]), 60_000, 200);
    expect(proxy.seen.at(-1)!.redelivery).toBe(false);
    await expectExactlyOnce(es, stream, [pos]);
  });
});
