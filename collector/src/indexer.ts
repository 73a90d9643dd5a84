// Writes events to Elasticsearch data streams with `_bulk`, op_type create and the event's
// deterministic _id (namespaced by token and agent: ingest/event-ids.ts): a retried batch
// never doubles a document (409 counts as success).
//
// What fails what:
// - an item Elasticsearch defers (429, 5xx) is retried with backoff within a time budget;
// - an item it refuses for good (400-class: mapping conflict, depth limit, bad value) is
//   dead-lettered with the reason — that item only;
// - a request it refuses as a whole (400, 413, or a document the client cannot serialize) is
//   split in halves until the document it objects to is alone, and that one is dead-lettered;
// - only a whole-request failure that says nothing about the documents (Elasticsearch
//   unreachable, overloaded past the budget, or refusing our credentials) fails the batch:
//   ElasticsearchUnavailable → 503, and the agent retries.
// Resolves only when every document is accepted — only then is the agent acked.
import { errors, type Client } from '@elastic/elasticsearch';
import { Backoff, sleep, type WireAck, type Logger } from '@stacklens/common';
import type { IndexedDoc } from '@stacklens/detection';
import { capJson, wholeText } from './ingest/capped-text.js';
import { deadLetter, DEADLETTER_STREAM } from './ingest/dead-letters.js';
import type { IngestBatch } from './ingest/ingest-batch.js';
import { findEarlierCopies } from './ingest/earlier-copies.js';

export { DEADLETTER_STREAM };

/** A document to index: the rule engine's IndexedDoc (index + body, what it observes once indexed) with its id. */
export interface Doc extends IndexedDoc {
  id: string;
  /** The line as the agent read it (structured formats): what a dead letter keeps if Elasticsearch refuses the document. */
  raw?: string;
}

interface Rejected {
  doc: Doc;
  /** error.type of its dead letter. */
  type: string;
  reason: string;
}

/** Elasticsearch's answer to one _bulk request. */
type BulkAnswer =
  | { kind: 'items'; items: Array<Partial<Record<string, { status?: number; error?: { type?: string; reason?: string } }>>> }
  /** The request as a whole was refused for its content: some document in it is the cause. */
  | { kind: 'refused'; reason: string }
  /** Nothing was written, for a reason that is not the documents' (unreachable, overloaded, auth). */
  | { kind: 'failed'; reason: string };

export class ElasticsearchUnavailable extends Error {}

/**
 * A refusal that is about the cluster's state, not the document: no room for the shards of a
 * new backing index. It passes when an operator makes room — retried, then 503 (the agent
 * keeps the events), never dead-lettered for good.
 */
function isClusterLimit(error: { type?: string; reason?: string } | undefined): boolean {
  return error?.type === 'validation_exception' && /maximum (?:normal )?shards open|max_shards_per_node/.test(error.reason ?? '');
}

export interface IndexerStats {
  indexed: number;
  duplicates: number;
  /** Events that went to the dead-letter stream (one by one, or counted in a request's summary). */
  deadLettered: number;
  bulkRequests: number;
  bulkRetries: number;
  /** Events in batches the collector accepted for indexing. */
  received: number;
  /** Ingest requests being indexed right now (the collector's queue depth). */
  inFlight: number;
  /** Redelivered batches (the agent says they may have arrived before) looked up across backing indices. */
  redeliveryChecks: number;
  /** Their documents found in some backing index already (not created again; counted as duplicates). */
  redeliveryFound: number;
}

export interface IndexOptions {
  /**
   * The agent may have delivered this batch before (a retry, or lines re-read after a restart),
   * first at this time (epoch ms): look its ids up in the backing indices written to since then
   * before creating them, so a rollover in between cannot double them (ingest/earlier-copies.ts).
   */
  redeliverySince?: number;
}

export class Indexer {
  readonly stats: IndexerStats = { indexed: 0, duplicates: 0, deadLettered: 0, bulkRequests: 0, bulkRetries: 0, received: 0, inFlight: 0, redeliveryChecks: 0, redeliveryFound: 0 };
  /** Told how long each _bulk request took (seconds). */
  onBulk: (seconds: number) => void = () => {};
  /** Called with the events of every batch Elasticsearch accepted (detection rules look at them). */
  onIndexed: (docs: Doc[]) => void = () => {};

  constructor(
    /** Also read by the ingest path (which data streams exist: ingest/data-stream-quota.ts). */
    readonly client: Client,
    private readonly retryBudgetMs: number,
    private readonly log: Logger,
  ) {}

  /** Index one agent batch; returns the ack, or throws ElasticsearchUnavailable (→ 503, the agent retries). */
  async indexBatch(batch: IngestBatch, opts: IndexOptions = {}): Promise<WireAck> {
    this.stats.received += batch.received;
    this.stats.inFlight++;
    if (opts.redeliverySince !== undefined) this.stats.redeliveryChecks++;
    try {
      return await this.index(batch, opts.redeliverySince);
    } finally {
      this.stats.inFlight--;
    }
  }

  private async index(batch: IngestBatch, redeliverySince: number | undefined): Promise<WireAck> {
    let created = 0;
    let duplicates = 0;
    const refused: Doc[] = [];
    const refusals: string[] = [];
    // bulk.retry_budget is the request's: every chunk and the dead letters share it.
    const deadline = Date.now() + this.retryBudgetMs;
    // A chunk at a time (a large request is never held parsed all at once); each chunk is
    // shown to the rules once Elasticsearch has it.
    for await (const docs of batch.documents()) {
      const outcome = await this.bulkCreate(docs, deadline, redeliverySince);
      created += outcome.created;
      duplicates += outcome.duplicates;
      for (const r of outcome.rejected) {
        if (refusals.length < 5) refusals.push(r.reason);
        refused.push(this.refusedLetter(batch, r));
      }
      // Duplicates included: a batch retried after a crash may never have been evaluated.
      this.onIndexed(docs);
    }
    const second = await this.bulkCreate(batch.deadLetters().concat(refused), deadline, redeliverySince);
    if (second.rejected.length > 0) {
      // Dead letters are built to be accepted (dynamic: false, checked fields), so this means
      // something is badly wrong: refuse the batch (the agent keeps it and retries) rather than lose it.
      this.log.error({ reasons: second.rejected.slice(0, 3).map((r) => r.reason) }, 'dead-letter stream refused documents');
      throw new ElasticsearchUnavailable(`dead-letter stream refused ${second.rejected.length} documents: ${second.rejected[0].reason}`);
    }
    const deadLettered = batch.deadLetteredEvents + refused.length;
    // Each event counts once: indexed, a duplicate of a document already there, or
    // dead-lettered (a dead letter already there from a retried batch is still its event's fate).
    const ack: WireAck = {
      indexed: created,
      duplicates,
      dead_lettered: deadLettered,
      errors: batch.reasons.concat(refusals).slice(0, 5),
    };
    this.stats.indexed += ack.indexed;
    this.stats.duplicates += ack.duplicates;
    this.stats.deadLettered += deadLettered;
    return ack;
  }

  /** The dead letter of a document Elasticsearch refused. */
  private refusedLetter(batch: IngestBatch, r: Rejected): Doc {
    const event = r.doc.body.event as { id?: string; dataset?: string };
    return deadLetter({
      agentId: batch.agentId,
      id: r.doc.id,
      eventId: event.id,
      // The line as read when the agent sent it; else the document (what we have of it). Whole:
      // a log line, bounded by max_event_bytes; written without recursion all the same.
      original: r.doc.raw !== undefined ? wholeText(r.doc.raw) : capJson(r.doc.body, Infinity),
      error: { type: r.type, message: r.reason },
      stage: 'elasticsearch.index',
      target: { dataStream: r.doc.index, dataset: event.dataset },
      source: r.doc.body,
      ingested: batch.ingested,
    });
  }

  /**
   * Create every document; retry deferred items and failed requests until `deadline` (one
   * attempt at least). A redelivered batch first drops the documents some backing index has.
   */
  private async bulkCreate(docs: Doc[], deadline: number, redeliverySince?: number): Promise<{ created: number; duplicates: number; rejected: Rejected[] }> {
    let created = 0;
    let duplicates = 0;
    const rejected: Rejected[] = [];
    let pending = docs;
    if (redeliverySince !== undefined && docs.length > 0) {
      let earlier: Set<string>;
      try {
        earlier = await findEarlierCopies(this.client, docs, redeliverySince);
      } catch (err) {
        throw new ElasticsearchUnavailable(`cannot check a redelivered batch for earlier copies: ${(err as Error).message}`);
      }
      if (earlier.size > 0) {
        pending = docs.filter((d) => !earlier.has(`${d.index}\u0000${d.id}`));
        duplicates += docs.length - pending.length;
        this.stats.redeliveryFound += docs.length - pending.length;
      }
    }
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    while (pending.length > 0) {
      const retry: Doc[] = [];
      let lastError = '';
      // One request, unless Elasticsearch refuses it as a whole: then halves, until the
      // document it objects to is alone.
      const groups: Doc[][] = [pending];
      for (let group = groups.pop(); group; group = groups.pop()) {
        const answer = await this.send(group);
        if (answer.kind === 'failed') {
          lastError = answer.reason;
          for (const d of group) retry.push(d);
        } else if (answer.kind === 'refused') {
          if (group.length === 1) rejected.push({ doc: group[0], type: 'elasticsearch.refused', reason: answer.reason });
          else groups.push(group.slice(group.length >> 1), group.slice(0, group.length >> 1));
        } else {
          for (let i = 0; i < group.length; i++) {
            const item = answer.items[i]?.create;
            const status = item?.status ?? 500;
            if (status === 200 || status === 201) created++;
            else if (status === 409) duplicates++;
            else if (status === 429 || status >= 500 || isClusterLimit(item?.error)) {
              retry.push(group[i]);
              lastError = `${item?.error?.type ?? status}: ${item?.error?.reason ?? ''}`;
            } else {
              // Mapping conflicts, the mapping depth limit, values the field cannot take: this document only.
              rejected.push({ doc: group[i], type: 'mapping', reason: `${item?.error?.type ?? `status ${status}`}: ${item?.error?.reason ?? 'rejected'}`.slice(0, 1000) });
            }
          }
        }
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

  private async send(group: Doc[]): Promise<BulkAnswer> {
    const operations: unknown[] = [];
    for (const d of group) operations.push({ create: { _index: d.index, _id: d.id } }, d.body);
    this.stats.bulkRequests++;
    const started = performance.now();
    try {
      const res = await this.client.bulk({ operations, filter_path: 'items.*.status,items.*.error' });
      this.onBulk((performance.now() - started) / 1000);
      return { kind: 'items', items: (res.items ?? []) as Extract<BulkAnswer, { kind: 'items' }>['items'] };
    } catch (err) {
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (err instanceof errors.SerializationError || status === 400 || status === 413) {
        const body = (err as { meta?: { body?: { error?: { type?: string; reason?: string } } } }).meta?.body?.error;
        return { kind: 'refused', reason: `${body?.type ?? `status ${status ?? 'serialization'}`}: ${body?.reason ?? (err as Error).message}`.slice(0, 1000) };
      }
      return { kind: 'failed', reason: (err as Error).message };
    }
  }
}
