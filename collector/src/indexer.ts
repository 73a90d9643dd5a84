// Writes events to Elasticsearch data streams with `_bulk`, op_type create and the event's
// deterministic _id: a retried batch never doubles a document (409 counts as success).
// Items rejected with 429 or 5xx are retried with backoff within a time budget; documents
// Elasticsearch refuses for good (mapping conflicts) go to the dead-letter stream with the
// reason. Resolves only when every document is accepted — only then is the agent acked.
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import { Backoff, sleep, dataStreamName, DEADLETTER_DATASET, type WireEvent, type WireAck, type Logger } from '@stacklens/common';
import { messageTemplate } from '@stacklens/detection';
import { checkEvent } from './validate.js';

export const DEADLETTER_STREAM = dataStreamName(DEADLETTER_DATASET, 'default');

export interface Doc {
  index: string;
  id: string;
  body: Record<string, unknown>;
  /** The line as the agent read it (structured formats): what a dead letter keeps if Elasticsearch refuses the document. */
  raw?: string;
}

interface Rejected {
  doc: Doc;
  reason: string;
}

export class ElasticsearchUnavailable extends Error {}

export interface IndexerStats {
  indexed: number;
  duplicates: number;
  deadLettered: number;
  bulkRequests: number;
  bulkRetries: number;
  /** Events in batches the collector accepted for indexing. */
  received: number;
  /** Ingest requests being indexed right now (the collector's queue depth). */
  inFlight: number;
}

export class Indexer {
  readonly stats: IndexerStats = { indexed: 0, duplicates: 0, deadLettered: 0, bulkRequests: 0, bulkRetries: 0, received: 0, inFlight: 0 };
  /** Told how long each _bulk request took (seconds). */
  onBulk: (seconds: number) => void = () => {};
  /** Called with the events of every batch Elasticsearch accepted (detection rules look at them). */
  onIndexed: (docs: Doc[]) => void = () => {};

  constructor(
    private readonly client: Client,
    private readonly retryBudgetMs: number,
    private readonly log: Logger,
  ) {}

  /** Index one agent batch; returns the ack, or throws ElasticsearchUnavailable (→ 503, the agent retries). */
  async indexBatch(agentId: string, events: unknown[]): Promise<WireAck> {
    this.stats.received += events.length;
    this.stats.inFlight++;
    try {
      return await this.index(agentId, events);
    } finally {
      this.stats.inFlight--;
    }
  }

  private async index(agentId: string, events: unknown[]): Promise<WireAck> {
    const ingested = new Date().toISOString();
    const docs: Doc[] = [];
    const dead: Doc[] = [];
    const reasons: string[] = [];
    events.forEach((value, i) => {
      const checked = checkEvent(value, i);
      if (!checked.ok) {
        reasons.push(checked.reason);
        dead.push(deadLetter(agentId, undefined, checked.raw, { type: 'invalid_event', message: checked.reason }, 'collector.validate', ingested));
        return;
      }
      const e = checked.event;
      if (e.error) {
        reasons.push(`${e.error.type}: ${e.error.message}`);
        dead.push(deadLetter(agentId, e, e.raw ?? e.doc.message, e.error, 'agent.parse', ingested));
        return;
      }
      const body = e.doc;
      body.event = { ...(body.event as object | undefined), dataset: e.dataset, ingested };
      // The message with numbers, ids and quoted values masked: rules group incidents by it.
      body.stacklens = { ...(body.stacklens as object | undefined), message_template: messageTemplate(body.message) };
      docs.push({ index: dataStreamName(e.dataset, e.namespace), id: e.id, body, raw: typeof e.raw === 'string' ? e.raw : undefined });
    });

    const first = await this.bulkCreate(docs);
    for (const r of first.rejected) {
      reasons.push(r.reason);
      // The line as read when the agent sent it; else the document (what we have of it).
      const original = r.doc.raw ?? JSON.stringify(r.doc.body);
      dead.push({
        index: DEADLETTER_STREAM,
        id: r.doc.id,
        body: deadLetterBody(agentId, r.doc.body, original, { type: 'mapping', message: r.reason }, 'elasticsearch.index', r.doc.index, ingested),
      });
    }
    const second = await this.bulkCreate(dead);
    if (second.rejected.length > 0) {
      // The dead-letter stream maps almost nothing, so this means something is badly wrong:
      // refuse the batch (the agent keeps it and retries) rather than lose it.
      this.log.error({ reasons: second.rejected.slice(0, 3).map((r) => r.reason) }, 'dead-letter stream refused documents');
      throw new ElasticsearchUnavailable(`dead-letter stream refused ${second.rejected.length} documents: ${second.rejected[0].reason}`);
    }
    const ack: WireAck = {
      indexed: first.created,
      duplicates: first.duplicates + second.duplicates,
      dead_lettered: dead.length,
      errors: reasons.slice(0, 5),
    };
    this.stats.indexed += ack.indexed;
    this.stats.duplicates += ack.duplicates;
    this.stats.deadLettered += ack.dead_lettered;
    // Duplicates included: a batch retried after a crash may never have been evaluated.
    if (docs.length > 0) this.onIndexed(docs);
    return ack;
  }

  /** Create every document; retry 429/5xx items and transport errors until the budget is spent. */
  private async bulkCreate(docs: Doc[]): Promise<{ created: number; duplicates: number; rejected: Rejected[] }> {
    let created = 0;
    let duplicates = 0;
    const rejected: Rejected[] = [];
    let pending = docs;
    const deadline = Date.now() + this.retryBudgetMs;
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    while (pending.length > 0) {
      const retry: Doc[] = [];
      let lastError = '';
      try {
        const operations: unknown[] = [];
        for (const d of pending) operations.push({ create: { _index: d.index, _id: d.id } }, d.body);
        this.stats.bulkRequests++;
        const started = performance.now();
        const res = await this.client.bulk({ operations, filter_path: 'items.*.status,items.*.error' });
        this.onBulk((performance.now() - started) / 1000);
        const items = res.items ?? [];
        for (let i = 0; i < pending.length; i++) {
          const item = items[i]?.create;
          const status = item?.status ?? 500;
          if (status === 200 || status === 201) created++;
          else if (status === 409) duplicates++;
          else if (status === 429 || status >= 500) {
            retry.push(pending[i]);
            lastError = `${item?.error?.type ?? status}: ${item?.error?.reason ?? ''}`;
          } else {
            rejected.push({ doc: pending[i], reason: `${item?.error?.type ?? `status ${status}`}: ${item?.error?.reason ?? 'rejected'}`.slice(0, 1000) });
          }
        }
      } catch (err) {
        lastError = (err as Error).message;
        retry.push(...pending);
      }
      pending = retry;
      if (pending.length === 0) break;
      if (Date.now() >= deadline) {
        throw new ElasticsearchUnavailable(`Elasticsearch did not accept ${pending.length} documents: ${lastError}`);
      }
      this.stats.bulkRetries++;
      this.log.warn({ documents: pending.length, reason: lastError }, 'Elasticsearch deferred documents; retrying');
      await sleep(Math.min(backoff.next(), Math.max(0, deadline - Date.now())));
    }
    return { created, duplicates, rejected };
  }
}

function deadLetter(agentId: string, e: WireEvent | undefined, raw: unknown, error: { type: string; message: string }, stage: string, ingested: string): Doc {
  const original = typeof raw === 'string' ? raw : JSON.stringify(raw) ?? String(raw);
  // An event without a usable id still gets a deterministic one, so a retried batch does not double it.
  const id = e?.id ?? createHash('sha1').update(`${agentId}\u0000${original}`).digest('base64url');
  const target = e ? dataStreamName(e.dataset, e.namespace) : undefined;
  return { index: DEADLETTER_STREAM, id, body: deadLetterBody(agentId, e?.doc, original, error, stage, target, ingested) };
}

function deadLetterBody(
  agentId: string,
  doc: Record<string, unknown> | undefined,
  original: string,
  error: { type: string; message: string },
  stage: string,
  targetStream: string | undefined,
  ingested: string,
): Record<string, unknown> {
  const source = (doc ?? {}) as Record<string, any>;
  return {
    '@timestamp': ingested,
    message: original.length > 32_768 ? `${original.slice(0, 32_768)}…` : original,
    error: { type: error.type, message: error.message },
    event: { original, dataset: DEADLETTER_DATASET, kind: 'pipeline_error', ingested },
    data_stream: { type: 'logs', dataset: DEADLETTER_DATASET, namespace: 'default' },
    agent: { id: agentId },
    host: source.host,
    log: source.log ? { file: source.log.file, offset: source.log.offset } : undefined,
    stacklens: { stage, target: { data_stream: targetStream, dataset: source.data_stream?.dataset } },
  };
}
