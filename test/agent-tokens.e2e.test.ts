// #14 "Agents are principals too", tried through the real collector CLI as an attacker would:
// a token sending as an agent it may not (403, audited, nothing written), pre-empting another
// agent's event ids (its document lands under its own ids), writing a dataset it may not or
// a reserved one (that event dead-lettered, its neighbours indexed), and creating data
// streams past its max_data_streams (those events dead-lettered, no more streams made) —
// while the legitimate agents' events are indexed, and retries still answer duplicates.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allDocs, count, esClient, startCollector, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const DEAD = 'logs-stacklens.deadletter-default';
const secret = (who: string) => `${who}-${randomBytes(16).toString('hex')}`;
const POS_TOKEN = secret('pos');
const CHAT_TOKEN = secret('chat');
const CAPPED_TOKEN = secret('capped');
const ADMIN = secret('admin');
const started = new Date().toISOString();
let collector: CollectorHandle;

beforeAll(async () => {
  collector = await startCollector(esUrl, {
    agentTokensYaml: [
      'agent_tokens:',
      '  - "${TEST_AGENT_TOKEN}"',
      '  - { name: pos-agents, token: "${POS_TOKEN}", agents: [pos-*], datasets: [pos] }',
      '  - { name: chat-agents, token: "${CHAT_TOKEN}", agents: [chat-*], datasets: [chatbot] }',
      // As its digest: the file need not hold the token.
      `  - { name: capped, token: "sha256:${createHash('sha256').update(CAPPED_TOKEN).digest('hex')}", max_data_streams: 3 }`,
    ].join('\n'),
    extra: 'api:\n  admin_tokens: ["${ADMIN}"]\n',
    env: { POS_TOKEN, CHAT_TOKEN, ADMIN },
  });
});
afterAll(async () => {
  await collector?.stop('SIGKILL');
});

interface TestEvent {
  id: string;
  dataset: string;
  namespace: string;
  message: string;
}
const ev = (id: string, dataset: string, namespace: string, message = `line ${id}`): TestEvent => ({ id, dataset, namespace, message });

async function send(token: string, agentId: string | undefined, events: TestEvent[]): Promise<{ status: number; json: any }> {
  const body = {
    agent: agentId === undefined ? { hostname: 'h', version: '0' } : { id: agentId, hostname: 'h', version: '0' },
    events: events.map((e) => ({ id: e.id, dataset: e.dataset, namespace: e.namespace, doc: { '@timestamp': '2024-11-16T10:30:00Z', message: e.message, agent: { id: agentId, type: 'stacklens' } } })),
  };
  const res = await fetch(`${collector.url}/v1/events`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  return { status: res.status, json: await res.json() };
}

const deadLettersOf = (agentId: string) => allDocs(es, DEAD, { term: { 'agent.id': agentId } });

/** logs-* data streams whose name contains `part`. */
async function dataStreams(part: string): Promise<string[]> {
  const res = await es.indices.resolveIndex({ name: `logs-*${part}*`, expand_wildcards: 'all' });
  return res.data_streams.map((d) => d.name).sort();
}

describe('agent tokens: which agents a token may send as', () => {
  it('refuses a token sending as another token\'s agent with 403 naming both; nothing is written; the real line is then indexed, not a duplicate', async () => {
    const ns = uniqueNamespace();
    const agent = `pos-${ns}`;
    // The id the pos agent would give its next line.
    const next = ev(`next-${ns}`, 'pos', ns, 'the real line');

    const forged = await send(CHAT_TOKEN, agent, [{ ...next, message: 'FORGED by chat-agents' }]);
    expect(forged.status).toBe(403);
    expect(forged.json).toEqual({ error: `agent token "chat-agents" may not send as agent "${agent}" (its agents: chat-*)` });
    expect(await count(es, `logs-*-${ns}`)).toBe(0);
    expect(await deadLettersOf(agent)).toHaveLength(0);

    const real = await send(POS_TOKEN, agent, [next]);
    expect(real).toEqual({ status: 200, json: { indexed: 1, duplicates: 0, dead_lettered: 0, errors: [] } });
    const docs = await allDocs(es, `logs-pos-${ns}`);
    expect(docs.map((d) => d._source.message)).toEqual(['the real line']);
    // The event's own id and the sending agent stay in the document.
    expect(docs[0]._source.event).toMatchObject({ id: next.id, dataset: 'pos' });
    expect(docs[0]._source.agent.id).toBe(agent);
    // A retry of the same batch is still a duplicate, not a second document.
    expect((await send(POS_TOKEN, agent, [next])).json).toMatchObject({ indexed: 0, duplicates: 1 });
    expect(await count(es, `logs-pos-${ns}`)).toBe(1);
  });

  it('refuses a batch without an agent id when the token names its agents', async () => {
    const ns = uniqueNamespace();
    const res = await send(POS_TOKEN, undefined, [ev(`x-${ns}`, 'pos', ns)]);
    expect(res.status).toBe(403);
    expect(res.json.error).toBe('agent token "pos-agents" may not send as agent "unknown" (its agents: pos-*)');
    expect(await count(es, `logs-*-${ns}`)).toBe(0);
  });

  it('records the refusal in the audit trail: token, agent id, address, reason', async () => {
    const ns = uniqueNamespace();
    const agent = `pos-${ns}`;
    expect((await send(CHAT_TOKEN, agent, [ev(`a-${ns}`, 'pos', ns)])).status).toBe(403);
    const record = await waitFor(
      'the ingest.agent_id audit record',
      async () => {
        const res = await fetch(`${collector.url}/api/audit?action=ingest.agent_id&from=${started}&size=200`, { headers: { authorization: `Bearer ${ADMIN}` } });
        if (res.status !== 200) throw new Error(`GET /api/audit: ${res.status} ${await res.text()}`);
        return ((await res.json()).records as any[]).find((r) => r.stacklens.audit.target === agent);
      },
      20_000,
    );
    expect(record).toMatchObject({
      event: { action: 'ingest.agent_id', category: 'authorization', outcome: 'failure', reason: `agent token "chat-agents" may not send as agent "${agent}" (its agents: chat-*)` },
      user: { name: 'chat-agents' },
      stacklens: { audit: { principal_kind: 'agent', via: 'ingest', target: agent } },
      url: { path: '/v1/events' },
    });
    expect(record.source.ip).toBeTruthy();
    expect(JSON.stringify(record)).not.toContain(CHAT_TOKEN);
  });
});

describe('agent tokens: event ids are namespaced by token and agent', () => {
  it('a token that may send as the same agent id still cannot pre-empt its ids: both documents exist, each under its own _id', async () => {
    const ns = uniqueNamespace();
    const agent = `pos-${ns}`;
    const next = ev(`next-${ns}`, 'pos', ns, 'the real line');
    // The plain-string token may send as any agent: its copy goes under its own ids.
    expect((await send(collector.token, agent, [{ ...next, message: 'sent first by another token' }])).json).toMatchObject({ indexed: 1, duplicates: 0 });
    expect((await send(POS_TOKEN, agent, [next])).json).toMatchObject({ indexed: 1, duplicates: 0 });
    const docs = await allDocs(es, `logs-pos-${ns}`);
    expect(docs.map((d) => d._source.message).sort()).toEqual(['sent first by another token', 'the real line']);
    expect(new Set(docs.map((d) => d._id)).size).toBe(2);
    for (const d of docs) {
      expect(d._source.event.id).toBe(next.id);
      expect(Buffer.byteLength(d._id)).toBeLessThanOrEqual(512);
    }
    // Found by the event's own id.
    expect(await count(es, `logs-pos-${ns}`, { term: { 'event.id': next.id } })).toBe(2);
  });

  it('another agent of the same token cannot pre-empt either', async () => {
    const ns = uniqueNamespace();
    const shared = ev(`e-${ns}`, 'pos', ns);
    expect((await send(POS_TOKEN, `pos-a-${ns}`, [shared])).json).toMatchObject({ indexed: 1 });
    expect((await send(POS_TOKEN, `pos-b-${ns}`, [shared])).json).toMatchObject({ indexed: 1, duplicates: 0 });
    const docs = await allDocs(es, `logs-pos-${ns}`);
    expect(docs.map((d) => d._source.agent.id).sort()).toEqual([`pos-a-${ns}`, `pos-b-${ns}`]);
  });

  it('a document cannot claim another agent: agent.id is the request\'s', async () => {
    const ns = uniqueNamespace();
    const body = {
      agent: { id: `pos-${ns}` },
      events: [{ id: 'claim', dataset: 'pos', namespace: ns, doc: { '@timestamp': '2024-11-16T10:30:00Z', message: 'm', agent: { id: 'pos-someone-else', type: 'stacklens' } } }],
    };
    const res = await fetch(`${collector.url}/v1/events`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${POS_TOKEN}` } });
    expect(await res.json()).toMatchObject({ indexed: 1 });
    const [doc] = await allDocs(es, `logs-pos-${ns}`);
    expect(doc._source.agent).toEqual({ id: `pos-${ns}`, type: 'stacklens' });
  });
});

describe('agent tokens: datasets', () => {
  it('dead-letters an event for a dataset the token may not write, naming dataset and token; its neighbours are indexed', async () => {
    const ns = uniqueNamespace();
    const agent = `pos-${ns}`;
    const res = await send(POS_TOKEN, agent, [ev(`p1-${ns}`, 'pos', ns), ev(`c1-${ns}`, 'chatbot', ns, 'into chatbot'), ev(`p2-${ns}`, 'pos', ns)]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ indexed: 2, duplicates: 0, dead_lettered: 1, errors: ['events[1]: agent token "pos-agents" may not write dataset chatbot (its datasets: pos)'] });
    expect(await count(es, `logs-pos-${ns}`)).toBe(2);
    expect(await count(es, `logs-chatbot-${ns}`)).toBe(0);
    const dead = await deadLettersOf(agent);
    expect(dead).toHaveLength(1);
    expect(dead[0]._source).toMatchObject({
      error: { type: 'dataset_not_allowed', message: 'events[1]: agent token "pos-agents" may not write dataset chatbot (its datasets: pos)' },
      event: { id: `c1-${ns}` },
      stacklens: { stage: 'collector.authorize', target: { data_stream: `logs-chatbot-${ns}`, dataset: 'chatbot' } },
    });
    expect(JSON.parse(dead[0]._source.event.original)).toMatchObject({ id: `c1-${ns}`, doc: { message: 'into chatbot' } });
    // A retry: the same answer, nothing doubled.
    expect((await send(POS_TOKEN, agent, [ev(`p1-${ns}`, 'pos', ns), ev(`c1-${ns}`, 'chatbot', ns, 'into chatbot'), ev(`p2-${ns}`, 'pos', ns)])).json).toMatchObject({ indexed: 0, duplicates: 2, dead_lettered: 1 });
    expect(await deadLettersOf(agent)).toHaveLength(1);
  });

  it('refuses the reserved datasets (chat, stacklens.*) to every token, even one that may write any dataset', async () => {
    const ns = uniqueNamespace();
    const agent = `any-${ns}`;
    const res = await send(collector.token, agent, [ev(`a-${ns}`, 'chat', 'default', 'forged chat message'), ev(`b-${ns}`, 'anything', ns), ev(`c-${ns}`, 'stacklens.audit', 'default', 'forged audit record')]);
    expect(res.json).toEqual({
      indexed: 1,
      duplicates: 0,
      dead_lettered: 2,
      errors: ['events[0]: dataset chat is reserved (the collector writes it itself)', 'events[2]: dataset stacklens.audit is reserved (the collector writes it itself)'],
    });
    expect(await count(es, 'logs-chat-default,logs-stacklens.audit-default', { match: { message: 'forged' } })).toBe(0);
    expect(await count(es, `logs-anything-${ns}`)).toBe(1);
  });
});

describe('agent tokens: max_data_streams', () => {
  it('dead-letters the events of data streams past the cap, naming max_data_streams, and creates no more; existing streams are free', async () => {
    const ns = uniqueNamespace();
    const agent = `cap-${ns}`;
    // A data stream that exists already (made by another token): writing to it costs nothing.
    expect((await send(collector.token, `other-${ns}`, [ev(`x-${ns}`, 'capped', `${ns}x0`)])).json).toMatchObject({ indexed: 1 });
    const events = [0, 1, 2, 3, 4, 5].flatMap((n) => [ev(`a${n}-${ns}`, 'capped', `${ns}x${n}`), ev(`b${n}-${ns}`, 'capped', `${ns}x${n}`)]);
    const res = await send(CAPPED_TOKEN, agent, events);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ indexed: 8, duplicates: 0, dead_lettered: 4 });
    expect(res.json.errors).toEqual([8, 9, 10, 11].map((i) => `events[${i}]: logs-capped-${ns}x${Math.floor(i / 2)} would be a new data stream, and agent token "capped" has already created its max_data_streams (3)`));
    // x0 existed; x1..x3 are its three; x4 and x5 were never created.
    expect(await dataStreams(`capped-${ns}x`)).toEqual([0, 1, 2, 3].map((n) => `logs-capped-${ns}x${n}`));
    const dead = await deadLettersOf(agent);
    expect(dead).toHaveLength(4);
    for (const d of dead) expect(d._source).toMatchObject({ error: { type: 'max_data_streams' }, stacklens: { stage: 'collector.authorize' } });

    // Later batches: the token's own streams still take events; a new one is still refused.
    const later = await send(CAPPED_TOKEN, agent, [ev(`c1-${ns}`, 'capped', `${ns}x1`), ev(`c9-${ns}`, 'capped', `${ns}x9`)]);
    expect(later.json).toMatchObject({ indexed: 1, dead_lettered: 1, errors: [expect.stringContaining('max_data_streams (3)')] });
    expect(await dataStreams(`capped-${ns}x`)).toHaveLength(4);
    // Metrics count the refusals by type.
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^stacklens_collector_events_invalid_total\{type="max_data_streams"\} [1-9]/m);
  });

  it('leaves the plain-string token working as before: any agent, any non-reserved dataset', async () => {
    const ns = uniqueNamespace();
    const res = await send(collector.token, `whatever-${ns}`, [ev(`1-${ns}`, 'pos', ns), ev(`2-${ns}`, 'chatbot', ns), ev(`3-${ns}`, 'web.access', ns)]);
    expect(res.json).toEqual({ indexed: 3, duplicates: 0, dead_lettered: 0, errors: [] });
    expect(await count(es, `logs-*-${ns}`)).toBe(3);
  });
});
