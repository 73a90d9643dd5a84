// Agent → collector → Elasticsearch, end to end, through the real CLIs and a real Elasticsearch.
import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { posTrafficLine, chatbotTurn, rng } from '@stacklens/demo';
import { count, esClient, expectExactlyOnce, LogWriter, sleep, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, allDocs, type AgentHandle, type CollectorHandle, acknowledged } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});


function agentYaml(ns: string, collector: CollectorHandle, id: string, token = '${TEST_AGENT_TOKEN}'): string {
  return `id: ${id}
state_dir: ./state
collector:
  url: ${collector.url}
  token: ${token}
batch:
  flush_interval: 100ms
inputs:
  - paths: ["./logs/pos*.log"]
    format: pos
    dataset: pos
    namespace: ${ns}
  - paths: ["./logs/chat*.log"]
    format: chatbot
    dataset: chatbot
    namespace: ${ns}
`;
}

/** A collector and an agent tailing dir/logs/pos*.log and chat*.log into their own namespace. */
async function startPipeline() {
  const ns = uniqueNamespace();
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const collector = await startCollector(esUrl);
  running.push(collector);
  const agent = startAgent(dir, agentYaml(ns, collector, `agent-${ns}`), { TEST_AGENT_TOKEN: collector.token });
  running.push(agent);
  return { ns, dir, collector, agent };
}

describe('agent → collector → Elasticsearch', () => {
  it('indexes 10,000 mixed POS and chat-bot lines appended while the agent runs, exactly once, fields in place', async () => {
    const { ns, dir, collector, agent } = await startPipeline();

    const pos = new LogWriter(join(dir, 'logs', 'pos.log'));
    const chat = new LogWriter(join(dir, 'logs', 'chat.log'));
    const rand = rng(42);
    let start = Date.parse('2024-11-16T10:00:00Z');
    for (let round = 0; round < 50; round++) {
      const posLines: string[] = [];
      const chatLines: string[] = [];
      for (let i = 0; i < 100; i++) posLines.push(posTrafficLine(rand, 0.2, new Date((start += 1000))));
      while (chatLines.length < 100) chatLines.push(...chatbotTurn(rand, new Date((start += 1000)), 0.1));
      pos.append(posLines);
      chat.append(chatLines);
      await sleep(20); // pacing the writes (a scenario, not a wait for the agent)
    }
    const index = `logs-pos-${ns},logs-chatbot-${ns}`;
    await waitFor('10,000 documents', async () => (await count(es, index)) >= 10_000, 120_000, 500);
    // Both logs acknowledged to their end: nothing is in flight, so nothing more may arrive.
    await waitFor('both logs acknowledged to their end', async () => acknowledged(dir, [pos.path, chat.path]), 60_000, 500);
    const docs = await expectExactlyOnce(es, index, [pos, chat]);

    const byLocation = new Map(docs.map((d) => [`${d._source.log.file.path}@${d._source.log.offset}`, d._source]));
    for (const l of pos.lines) {
      const doc = byLocation.get(`${pos.path}@${l.offset}`);
      const [, ts, level, rest] = /^\[([^\]]+)\] \[([A-Z]+)\] (.*)$/.exec(l.text)!;
      const [message, json] = rest.split(' | ');
      const data = JSON.parse(json);
      expect(Date.parse(doc['@timestamp'])).toBe(Date.parse(ts));
      expect(doc.log.level).toBe(level.toLowerCase());
      expect(doc.message).toBe(message);
      expect(doc.pos.store_id).toBe(data.storeNumber);
      expect(doc.pos.kiosk_id).toBe(data.kioskNumber);
      expect(doc.error?.type).toBe(data.errorType);
      expect(doc.data_stream).toEqual({ type: 'logs', dataset: 'pos', namespace: ns });
      expect(doc.agent.id).toBe(`agent-${ns}`);
      expect(typeof doc.event.ingested).toBe('string');
    }
    for (const l of chat.lines) {
      const doc = byLocation.get(`${chat.path}@${l.offset}`);
      const data = JSON.parse(l.text);
      expect(doc['@timestamp']).toBe(data.ts);
      expect(doc.user.id).toBe(data.user_id);
      expect(doc.chatbot.event).toBe(data.event);
      expect(doc.chatbot.conversation_id).toBe(data.conversation_id);
      if (data.event === 'message_out') {
        expect(doc.chatbot.direction).toBe('out');
        expect(doc.chatbot.response_time_ms).toBe(data.response_time_ms);
        expect(doc.message).toBe(data.text);
      }
      if (data.event === 'message_in') expect(doc.user.name).toBe(data.user_name);
      if (data.event === 'error') expect(doc.error.type).toBe(data.error_type);
    }
  });

  it('survives SIGKILL of the agent and of the collector mid-stream: every line exactly once', async () => {
    const { ns, dir, collector, agent } = await startPipeline();

    const pos = new LogWriter(join(dir, 'logs', 'pos.log'));
    const rand = rng(7);
    const writing = (async () => {
      for (let round = 0; round < 60; round++) {
        const lines: string[] = [];
        for (let i = 0; i < 500; i++) lines.push(posTrafficLine(rand, 0.05, new Date()));
        pos.append(lines);
        await sleep(100); // pacing the writes
      }
    })();
    const index = `logs-pos-${ns}`;
    await waitFor('the first documents', async () => (await count(es, index)) > 2000, 60_000, 100);
    // Fixed waits are right here: they place the kills and the outage in the middle of the stream.
    await agent.stop('SIGKILL');
    await sleep(300);
    agent.restart();
    await sleep(1500);
    await collector.stop('SIGKILL');
    await sleep(1000);
    await collector.restart();
    await writing;
    await waitFor('30,000 documents', async () => (await count(es, index)) >= 30_000, 120_000, 500);
    await waitFor('the log acknowledged to its end', async () => acknowledged(dir, [pos.path]), 60_000, 500);
    await expectExactlyOnce(es, index, [pos]);
  });

  it('rejects a missing or wrong token with 401 and indexes nothing', async () => {
    const ns = uniqueNamespace();
    const collector = await startCollector(esUrl);
    running.push(collector);
    const body = JSON.stringify({ agent: { id: 'x', hostname: 'h', version: '0' }, events: [{ id: 'a', dataset: 'pos', namespace: ns, doc: { '@timestamp': new Date().toISOString(), message: 'm' } }] });
    const missing = await fetch(`${collector.url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(401);
    const wrong = await fetch(`${collector.url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(collector.token);

    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const agent = startAgent(dir, agentYaml(ns, collector, `agent-${ns}`, 'wrong-token'));
    running.push(agent);
    appendFileSync(join(dir, 'logs', 'pos.log'), `${posTrafficLine(rng(1), 0, new Date())}\n`);
    await waitFor('the agent to report the 401', async () => agent.proc.output.includes('"status":401'), 20_000);
    expect(await count(es, `logs-*-${ns}`)).toBe(0);
    expect(agent.proc.output).not.toContain('wrong-token');

    const ok = await fetch(`${collector.url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${collector.token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ indexed: 1, duplicates: 0, dead_lettered: 0 });
    const again = await fetch(`${collector.url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${collector.token}` } });
    expect(await again.json()).toMatchObject({ indexed: 0, duplicates: 1 });
  });

  it('sends malformed lines to the dead-letter stream with raw text and reason; the good lines around them are indexed', async () => {
    const ns = uniqueNamespace();
    const agentId = `agent-${ns}`;
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const collector = await startCollector(esUrl);
    running.push(collector);
    const good = (n: number) => `[2024-11-16T10:30:0${n}Z] [INFO] Order completed | {"orderId":"ORD-${n}","storeNumber":"STORE_001","kioskNumber":"KIOSK_001"}`;
    const bad = [
      { line: 'this is not a POS line', type: 'pos.format' },
      { line: '[the day before yesterday] [ERROR] Payment declined', type: 'timestamp' },
      { line: '[2024-11-16T10:30:00Z] [ERROR] Payment declined | {"orderId": "ORD-9", ', type: 'pos.json' },
    ];
    const lines = [good(1), bad[0].line, good(2), bad[1].line, good(3), bad[2].line, good(4)];
    appendFileSync(join(dir, 'logs', 'pos.log'), lines.map((l) => `${l}\n`).join(''));
    appendFileSync(join(dir, 'logs', 'chat.log'), '{"ts":"2024-11-16T10:30:00Z","event":"message_in","user_id":"u1","text":"hi"}\n{not json}\n');
    const agent = startAgent(dir, agentYaml(ns, collector, agentId), { TEST_AGENT_TOKEN: collector.token });
    running.push(agent);

    const deadQuery = { term: { 'agent.id': agentId } };
    await waitFor('4 dead letters', async () => (await count(es, 'logs-stacklens.deadletter-default', deadQuery)) >= 4, 30_000);
    await waitFor('5 good documents', async () => (await count(es, `logs-pos-${ns},logs-chatbot-${ns}`)) >= 5, 30_000);
    // Both logs acknowledged to their end: every line, good or dead-lettered, is indexed.
    await waitFor('both logs acknowledged to their end', async () => acknowledged(dir, [join(dir, 'logs', 'pos.log'), join(dir, 'logs', 'chat.log')]), 30_000);
    expect(await count(es, `logs-pos-${ns}`)).toBe(4);
    expect(await count(es, `logs-chatbot-${ns}`)).toBe(1);
    const dead = await allDocs(es, 'logs-stacklens.deadletter-default', deadQuery);
    expect(dead).toHaveLength(4);
    for (const b of bad) {
      const d = dead.find((x) => x._source.event.original === b.line);
      expect(d, b.line).toBeDefined();
      expect(d!._source.message).toBe(b.line);
      expect(d!._source.error.type).toBe(b.type);
      expect(d!._source.error.message.length).toBeGreaterThan(10);
      expect(d!._source.stacklens.target.data_stream).toBe(`logs-pos-${ns}`);
      expect(d!._source.log.file.path).toBe(join(dir, 'logs', 'pos.log'));
    }
    const chatDead = dead.find((x) => x._source.event.original === '{not json}');
    expect(chatDead!._source.error.type).toBe('chatbot.json');
  });
});
