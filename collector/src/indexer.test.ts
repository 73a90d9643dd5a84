// The indexer against a scripted stand-in for Elasticsearch's _bulk: what fails what.
import { describe, expect, it } from 'vitest';
import { errors, type Client } from '@elastic/elasticsearch';
import { createLogger } from '@stacklens/common';
import { ElasticsearchUnavailable, Indexer } from './indexer.js';
import { outlineBody } from './ingest/body-outline.js';
import { IngestBatch } from './ingest/ingest-batch.js';
import { AgentScope } from './ingest/agent-scope.js';
import { DataStreamQuota } from './ingest/data-stream-quota.js';
import { docId, docIdPrefix } from './ingest/event-ids.js';
import { DEFAULT_INGEST_LIMITS } from './ingest/limits.js';
import { Pacer } from './ingest/pacer.js';
import { TemplateCatalog } from '@stacklens/detection';

const log = createLogger('indexer-test', 'silent');
const event = (id: string, doc: Record<string, unknown> = {}) => ({ id, dataset: 'pos', namespace: 'default', doc: { '@timestamp': '2024-11-16T10:30:00Z', message: `line ${id}`, ...doc } });

async function batchOf(events: unknown[]): Promise<IngestBatch> {
  const body = Buffer.from(JSON.stringify({ agent: { id: 'agent-1' }, events }));
  const pacer = new Pacer();
  const quota = new DataStreamQuota({ indices: { resolveIndex: async () => ({ data_streams: [] }) } } as never);
  const scope = new AgentScope({ kind: 'agent', name: 'token-1', agents: ['*'], datasets: ['*'], maxDataStreams: 100, idNamespace: 'agent_tokens' }, 'agent-1', quota, () => log);
  return new IngestBatch(body, await outlineBody(body, { maxEvents: 1_000_000, pacer }), scope, DEFAULT_INGEST_LIMITS, pacer, new TemplateCatalog(undefined));
}
/** The _id of event `id` of agent-1 sent with a plain agent token. */
const idOf = (id: string) => docId(docIdPrefix('agent_tokens', 'agent-1'), id);

type Op = { create: { _index: string; _id: string } };
type Item = { status: number; error?: { type: string; reason: string } };
/** A _bulk stand-in: `answer` sees each request's documents and says how each fared (or throws for the whole request). */
function fakeEs(answer: (docs: { op: Op; body: Record<string, any> }[], call: number) => Item[]) {
  const written = new Map<string, Record<string, any>>();
  let calls = 0;
  const client = {
    async bulk({ operations }: { operations: unknown[] }) {
      const docs: { op: Op; body: Record<string, any> }[] = [];
      for (let i = 0; i < operations.length; i += 2) docs.push({ op: operations[i] as Op, body: operations[i + 1] as Record<string, any> });
      const items = answer(docs, calls++);
      docs.forEach((d, i) => {
        if (items[i].status === 201) written.set(`${d.op.create._index}/${d.op.create._id}`, d.body);
      });
      return { items: items.map((create) => ({ create })) };
    },
  };
  return { client: client as unknown as Client, written, calls: () => calls };
}

const refusedWhole = (reason: string) =>
  new errors.ResponseError({ statusCode: 400, body: { error: { type: 'x_content_parse_exception', reason } }, headers: {}, warnings: null, meta: {} as never });

describe('Indexer', () => {
  it('dead-letters the one document Elasticsearch refuses as a whole request, and indexes its neighbours', async () => {
    const es = fakeEs((docs) => {
      // Elasticsearch refusing the whole request because of one document in it.
      if (docs.some((d) => d.body.poison)) throw refusedWhole('nesting too deep');
      return docs.map(() => ({ status: 201 }));
    });
    const indexer = new Indexer(es.client, 5_000, log);
    const events = Array.from({ length: 100 }, (_, i) => event(`e${i}`, i === 37 ? { poison: true } : {}));
    const ack = await indexer.indexBatch(await batchOf(events));
    expect(ack).toMatchObject({ indexed: 99, dead_lettered: 1 });
    expect(ack.errors[0]).toContain('nesting too deep');
    const dead = [...es.written].filter(([k]) => k.startsWith('logs-stacklens.deadletter-default/'));
    expect(dead).toHaveLength(1);
    expect(dead[0][1]).toMatchObject({ error: { type: 'elasticsearch.refused' }, stacklens: { stage: 'elasticsearch.index', target: { data_stream: 'logs-pos-default', dataset: 'pos' } } });
    expect(JSON.parse(dead[0][1].event.original)).toMatchObject({ poison: true, message: 'line e37' });
    // Halving, not one request per document.
    expect(es.calls()).toBeLessThan(20);
  });

  it('dead-letters an item refused for good (400-class), retries deferred ones (429), and acks once all are in', async () => {
    const es = fakeEs((docs, call) =>
      docs.map((d) => {
        if (d.body.conflict) return { status: 400, error: { type: 'document_parsing_exception', reason: 'Limit of mapping depth [20] has been exceeded' } };
        if (d.body.busy && call === 0) return { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } };
        return { status: 201 };
      }),
    );
    const indexer = new Indexer(es.client, 5_000, log);
    const ack = await indexer.indexBatch(await batchOf([event('a'), event('b', { conflict: true }), event('c', { busy: true })]));
    expect(ack).toMatchObject({ indexed: 2, dead_lettered: 1 });
    expect(es.written.get(`logs-stacklens.deadletter-default/${idOf('b')}`)).toMatchObject({ error: { type: 'mapping', message: expect.stringContaining('mapping depth') } });
    expect(indexer.stats.bulkRetries).toBe(1);
  });

  it('answers ElasticsearchUnavailable when Elasticsearch cannot be reached within the budget (the agent retries)', async () => {
    const client = { bulk: async () => Promise.reject(new errors.ConnectionError('connect ECONNREFUSED')) } as unknown as Client;
    const indexer = new Indexer(client, 300, log);
    await expect(indexer.indexBatch(await batchOf([event('a')]))).rejects.toThrow(ElasticsearchUnavailable);
  });

  it('retries a huge set of deferred documents without growing the call stack', async () => {
    let attempt = 0;
    const client = {
      async bulk({ operations }: { operations: unknown[] }) {
        if (attempt++ === 0) throw new errors.ConnectionError('reset');
        return { items: Array.from({ length: operations.length / 2 }, () => ({ create: { status: 201 } })) };
      },
    } as unknown as Client;
    const indexer = new Indexer(client, 10_000, log);
    // 150,000 documents: `retry.push(...pending)` threw RangeError here (from ~130,000 on Node 20).
    const ack = await indexer.indexBatch(await batchOf(Array.from({ length: 150_000 }, (_, i) => event(`e${i}`))));
    expect(ack.indexed).toBe(150_000);
  });

  it('caps the dead letters of invalid events and counts the rest in one summary', async () => {
    const es = fakeEs((docs) => docs.map(() => ({ status: 201 })));
    const indexer = new Indexer(es.client, 5_000, log);
    const ack = await indexer.indexBatch(await batchOf([event('ok'), ...Array.from({ length: 1000 }, (_, i) => ({ n: i }))]));
    expect(ack).toMatchObject({ indexed: 1, dead_lettered: 1000 });
    const dead = [...es.written.values()].filter((d) => d.data_stream?.dataset === 'stacklens.deadletter');
    expect(dead).toHaveLength(DEFAULT_INGEST_LIMITS.max_dead_letters_per_request + 1);
    expect(dead.find((d) => d.error.type === 'dead_letters_capped')?.stacklens.summarized).toEqual({ events: 900, by_type: { invalid_event: 900 } });
  });
});
