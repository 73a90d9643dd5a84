// Dead letters: what the collector keeps of an event it cannot index — its text and the
// reason — in logs-stacklens.deadletter-default. A log line (the agent's parse failure, a
// document Elasticsearch refused) is kept whole in event.original: it is bounded by
// max_event_bytes and nothing of it may be lost. Of an event the collector refuses (any
// bytes a client sent) only the first DEAD_LETTER_TEXT_BYTES are kept, flagged when cut.
// `message` is at most DEAD_LETTER_TEXT_BYTES either way.
//
// A dead letter must itself always be accepted, or its whole batch would be refused and the
// agent would retry it forever. So it copies nothing from the client unchecked: the few
// source fields it keeps (host, file, offset, flags) are taken only when they have the
// mapped type and a size Elasticsearch indexes.
import { createHash, type Hash } from 'node:crypto';
import { dataStreamName, DATASET_PATTERN, NAMESPACE_PATTERN, DEADLETTER_DATASET } from '@stacklens/common';
import type { Doc } from '../indexer.js';
import { capString, type CappedText } from './capped-text.js';
import { DEAD_LETTER_TEXT_BYTES } from './limits.js';

export const DEADLETTER_STREAM = dataStreamName(DEADLETTER_DATASET, 'default');

/** Pipeline stage that refused the event, as stacklens.stage. */
export type Stage = 'collector.validate' | 'collector.authorize' | 'agent.parse' | 'elasticsearch.index';

export interface DeadLetterInput {
  agentId: string;
  /** Deterministic, and namespaced like documents' ids (event-ids.ts): a retried batch meets 409 instead of doubling the dead letter. */
  id: string;
  /** The agent's id of the event, when it has one: kept as event.id, so the event can be found. */
  eventId?: string;
  /** What event.original keeps: the whole line, or the first bytes of what a client sent. */
  original: CappedText;
  error: { type: string; message: string };
  stage: Stage;
  /** The data stream the event was meant for, when known. */
  target?: { dataStream: string; dataset?: string };
  /** The event's document, for the source fields worth keeping (file, offset, host). */
  source?: Record<string, unknown>;
  ingested: string;
  /** More stacklens.* fields (the summary's counts). */
  extra?: Record<string, unknown>;
}

export function deadLetter(input: DeadLetterInput): Doc {
  const { original } = input;
  const src = input.source ?? {};
  const log = isObject(src.log) ? src.log : {};
  const file = isObject(log.file) ? log.file : {};
  const flags = Array.isArray(log.flags) ? log.flags.filter((f): f is string => typeof f === 'string' && f.length <= 100).slice(0, 10) : [];
  if (original.truncated) flags.push('original_truncated');
  const path = keyword(file.path);
  const offset = typeof log.offset === 'number' && Number.isSafeInteger(log.offset) ? log.offset : undefined;
  const hostName = isObject(src.host) ? keyword(src.host.name) : undefined;
  return {
    index: DEADLETTER_STREAM,
    id: input.id,
    body: {
      '@timestamp': input.ingested,
      message: capString(original.text, DEAD_LETTER_TEXT_BYTES).text,
      error: { type: input.error.type, message: input.error.message.slice(0, 4000) },
      event: {
        original: original.text,
        // Bounded: an invalid event's id may be any size.
        id: input.eventId !== undefined && input.eventId.length <= 512 ? input.eventId : undefined,
        dataset: DEADLETTER_DATASET,
        kind: 'pipeline_error',
        ingested: input.ingested,
      },
      data_stream: { type: 'logs', dataset: DEADLETTER_DATASET, namespace: 'default' },
      agent: { id: input.agentId },
      host: hostName === undefined ? undefined : { name: hostName },
      log: path === undefined && offset === undefined && flags.length === 0 ? undefined : { file: path === undefined ? undefined : { path }, offset, flags: flags.length > 0 ? flags : undefined },
      stacklens: {
        stage: input.stage,
        target: { data_stream: input.target?.dataStream, dataset: input.target?.dataset },
        original_bytes: original.bytes,
        ...input.extra,
      },
    },
  };
}

/** The data stream and dataset an event names, when they are valid names. */
export function targetOf(dataset: unknown, namespace: unknown): DeadLetterInput['target'] {
  if (typeof dataset !== 'string' || typeof namespace !== 'string' || !DATASET_PATTERN.test(dataset) || !NAMESPACE_PATTERN.test(namespace)) return undefined;
  return { dataStream: dataStreamName(dataset, namespace), dataset };
}

/**
 * An id for a dead letter whose event has no usable one: a hash of the sender (the request's
 * id prefix: token and agent, event-ids.ts) and the event's bytes.
 */
export function contentId(idScope: string, bytes: Uint8Array): string {
  return createHash('sha1').update(idScope).update('\u0000').update(bytes).digest('base64url');
}

export interface InvalidEvent {
  type: string;
  reason: string;
  bytes: Uint8Array;
  original: () => CappedText;
  target?: DeadLetterInput['target'];
  /** The event's own id, when it had a string one. */
  eventId?: string;
  /** Default collector.validate; collector.authorize for what the token may not do. */
  stage?: Stage;
}

/**
 * The invalid events of one request: the first `cap` become dead letters one by one; the rest
 * are only counted, by reason, in one summary dead letter. Invalid input then costs at most
 * `cap` + 1 dead letters per request, whatever it holds.
 */
export class InvalidEventLetters {
  readonly letters: Doc[] = [];
  /** Invalid events over the cap: counted in the summary, not kept one by one. */
  summarized = 0;
  private readonly byType = new Map<string, number>();
  private readonly firstReasons: string[] = [];
  private firstSummarized?: CappedText;
  private readonly summaryHash: Hash;
  private summaryLetter?: Doc;

  /** `idScope`: what namespaces the dead letters' ids (the request's id prefix: token and agent). */
  constructor(
    private readonly agentId: string,
    private readonly cap: number,
    private readonly ingested: string,
    private readonly idScope: string,
  ) {
    this.summaryHash = createHash('sha1').update(idScope).update('\u0000summary');
  }

  add(e: InvalidEvent): void {
    if (this.letters.length < this.cap) {
      this.letters.push(
        deadLetter({
          agentId: this.agentId,
          id: contentId(this.idScope, e.bytes),
          eventId: e.eventId,
          original: e.original(),
          error: { type: e.type, message: e.reason },
          stage: e.stage ?? 'collector.validate',
          target: e.target,
          ingested: this.ingested,
        }),
      );
      return;
    }
    this.summarized++;
    this.byType.set(e.type, (this.byType.get(e.type) ?? 0) + 1);
    if (this.firstReasons.length < 5) this.firstReasons.push(e.reason);
    this.firstSummarized ??= e.original();
    // The summary's id follows from the events it stands for: the same request retried meets 409.
    this.summaryHash.update(e.bytes).update('\u0000');
  }

  /** The one dead letter that counts the invalid events over the cap, if there were any (call once all are added). */
  summary(): Doc | undefined {
    if (this.summarized === 0) return undefined;
    this.summaryLetter ??= this.buildSummary();
    return this.summaryLetter;
  }

  private buildSummary(): Doc {
    const counts = [...this.byType].map(([type, n]) => `${type} ×${n}`).join(', ');
    const message = `${this.summarized} more invalid events in this request were not kept one by one (ingest.max_dead_letters_per_request is ${this.cap}): ${counts}. First reasons: ${this.firstReasons.join('; ')}`;
    return deadLetter({
      agentId: this.agentId,
      id: this.summaryHash.digest('base64url'),
      // An example: the first event the summary stands for.
      original: this.firstSummarized!,
      error: { type: 'dead_letters_capped', message },
      stage: 'collector.validate',
      ingested: this.ingested,
      extra: { summarized: { events: this.summarized, by_type: Object.fromEntries(this.byType) } },
    });
  }
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string a keyword field indexes (Lucene refuses terms over 32 KiB; keep well inside). */
function keyword(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 4096 ? v : undefined;
}
