// One agent request's events, turned into what the indexer writes: a document for each valid
// event, a dead letter for each event the agent could not parse, and dead letters (capped per
// request) for the events the collector refuses.
//
// Events are read a chunk at a time: each is parsed on its own, and a chunk of documents is
// handed to the indexer once its estimated size in memory reaches CHUNK_HEAP_BYTES. Parsed
// JSON can take ~25× its text (an array of empty objects), so a request is never held parsed
// all at once: a 16 MiB body costs its bytes plus one chunk, whatever it holds.
//
// What the request's token may do (agent-scope.ts) is applied event by event: an event for a
// dataset the token may not write, or for one data stream more than its max_data_streams, is
// dead-lettered like an invalid one. Documents get _ids namespaced by token and agent
// (event-ids.ts); the event's own id stays visible as event.id.
import { dataStreamName, type WireEvent } from '@stacklens/common';
import { templateFields, templateSource, type TemplateCatalog } from '@stacklens/detection';
import type { Doc } from '../indexer.js';
import { checkEventBytes, heapEstimate } from '../validate.js';
import { RequestRefused, type BodyOutline, type EventSpan } from './body-outline.js';
import { capBytes, wholeText } from './capped-text.js';
import type { AgentScope } from './agent-scope.js';
import { deadLetter, InvalidEventLetters, targetOf } from './dead-letters.js';
import { DEAD_LETTER_TEXT_BYTES, type IngestLimits } from './limits.js';
import type { Pacer } from './pacer.js';

/** Reasons an ack carries back to the agent's log (the dead letters have all of them). */
const ACK_REASONS = 5;
/** Counted per event on top of its bytes, so a request of a million tiny events still yields. */
const EVENT_COST_BYTES = 64;
/** A chunk of documents is sent once this much parsed event data is held (an agent's default batch is one chunk). */
export const CHUNK_HEAP_BYTES = 8 * 1024 * 1024;

export class IngestBatch {
  /** When the collector took the batch: event.ingested of every document and dead letter. */
  readonly ingested = new Date().toISOString();
  /** Events the collector refused, by error type (kept one by one or summarized). */
  readonly invalidByType: Record<string, number> = {};
  /** The first few reasons, for the ack. */
  readonly reasons: string[] = [];
  private readonly parseFailures: Doc[] = [];
  private readonly invalid: InvalidEventLetters;

  constructor(
    private readonly body: Buffer,
    private readonly outline: BodyOutline,
    /** Who sends: the token's principal and the request's agent id (already checked against the token's agents). */
    readonly scope: AgentScope,
    private readonly limits: IngestLimits,
    private readonly pacer: Pacer,
    /** Gives each document its message template (stacklens.template_id / message_template). */
    private readonly templates: TemplateCatalog,
  ) {
    this.invalid = new InvalidEventLetters(scope.agentId, limits.max_dead_letters_per_request, this.ingested, scope.idPrefix);
  }

  /** The request's agent id. */
  get agentId(): string {
    return this.scope.agentId;
  }

  /** Events in the request. */
  get received(): number {
    return this.outline.events.length;
  }

  /** Invalid events over ingest.max_dead_letters_per_request: counted in the summary dead letter only. */
  get summarized(): number {
    return this.invalid.summarized;
  }

  /** Events that end in the dead-letter stream before Elasticsearch is asked (summarized ones included). */
  get deadLetteredEvents(): number {
    return this.parseFailures.length + this.invalid.letters.length + this.invalid.summarized;
  }

  /** The valid events' documents, a chunk at a time; dead letters are gathered on the way. */
  async *documents(): AsyncGenerator<Doc[]> {
    let chunk: Doc[] = [];
    let held = 0;
    for (let i = 0; i < this.outline.events.length; i++) {
      const span = this.outline.events[i];
      const doc = await this.read(span, i);
      if (!doc) continue;
      chunk.push(doc);
      held += heapEstimate(span.end - span.start, span.containers);
      if (held >= CHUNK_HEAP_BYTES) {
        yield await this.withTemplates(chunk);
        chunk = [];
        held = 0;
      }
    }
    if (chunk.length > 0) yield await this.withTemplates(chunk);
  }

  /**
   * The chunk's documents with their message templates: rules group incidents by the id, which
   * stays when the text generalizes. A chunk at a time, so a template another collector
   * created is read once for all of them (template-catalog.ts).
   */
  private async withTemplates(chunk: Doc[]): Promise<Doc[]> {
    const assigned = await this.templates.assign(chunk.map((d) => ({ dataset: (d.body.event as { dataset: string }).dataset, message: templateSource(d.body) })));
    for (let i = 0; i < chunk.length; i++) {
      const body = chunk[i].body;
      body.stacklens = { ...(body.stacklens as object | undefined), ...templateFields(assigned[i]) };
    }
    return chunk;
  }

  /** After documents() is done: the agent's parse failures, the first invalid events, the summary of the rest. */
  deadLetters(): Doc[] {
    const summary = this.invalid.summary();
    return summary ? this.parseFailures.concat(this.invalid.letters, [summary]) : this.parseFailures.concat(this.invalid.letters);
  }

  /** One event: its document when it is valid; otherwise its dead letter is noted and undefined returned. */
  private async read(span: EventSpan, index: number): Promise<Doc | undefined> {
    const bytes = this.body.subarray(span.start, span.end);
    const checked = checkEventBytes(bytes, span, index, this.limits);
    await this.pacer.spent(bytes.length + EVENT_COST_BYTES);
    if (!checked.ok) {
      this.note(checked.reason);
      this.invalidByType[checked.type] = (this.invalidByType[checked.type] ?? 0) + 1;
      const parsed = checked.value as Partial<WireEvent> | undefined;
      this.invalid.add({
        type: checked.type,
        reason: checked.reason,
        bytes,
        original: () => capBytes(bytes, DEAD_LETTER_TEXT_BYTES),
        target: targetOf(parsed?.dataset, parsed?.namespace),
        eventId: typeof parsed?.id === 'string' ? parsed.id : undefined,
      });
      return undefined;
    }
    const e = checked.event;
    // Parse failures only need the dataset (they create no data stream); documents both.
    const stream = dataStreamName(e.dataset, e.namespace);
    let refused = this.scope.datasetRefusal(e.dataset);
    if (!refused && !e.error) {
      const r = this.scope.streamRefusal(stream);
      refused = r instanceof Promise ? await r : r;
    }
    if (refused) {
      const reason = `events[${index}]: ${refused.reason}`;
      this.note(reason);
      this.invalidByType[refused.type] = (this.invalidByType[refused.type] ?? 0) + 1;
      this.invalid.add({
        type: refused.type,
        reason,
        bytes,
        original: () => capBytes(bytes, DEAD_LETTER_TEXT_BYTES),
        target: { dataStream: stream, dataset: e.dataset },
        eventId: e.id,
        stage: 'collector.authorize',
      });
      return undefined;
    }
    const id = this.scope.docId(e.id);
    if (e.error) {
      this.note(`${e.error.type}: ${e.error.message.slice(0, 300)}`);
      this.parseFailures.push(
        deadLetter({
          agentId: this.agentId,
          id,
          eventId: e.id,
          // The line as read: kept whole (it is bounded by max_event_bytes).
          original: wholeText(e.raw ?? (e.doc.message as string | undefined) ?? ''),
          error: { type: e.error.type, message: e.error.message },
          stage: 'agent.parse',
          target: { dataStream: stream, dataset: e.dataset },
          source: e.doc,
          ingested: this.ingested,
        }),
      );
      return undefined;
    }
    return toDoc(e, stream, id, this.agentId, this.ingested);
  }

  private note(reason: string): void {
    if (this.reasons.length < ACK_REASONS) this.reasons.push(reason);
  }
}

/**
 * The document to index for a valid event under its namespaced _id: the collector's own
 * fields added — event.id (the agent's id of the event), agent.id (the request's, which the
 * token may send as: a document cannot claim another agent).
 */
function toDoc(e: WireEvent, stream: string, id: string, agentId: string, ingested: string): Doc {
  const body = e.doc;
  body.event = { ...(body.event as object | undefined), id: e.id, dataset: e.dataset, ingested };
  const agent = body.agent as Record<string, unknown> | undefined;
  if (agent === undefined) body.agent = { id: agentId };
  else if (agent.id !== agentId) body.agent = { ...agent, id: agentId };
  return { index: stream, id, body, raw: e.raw };
}

/** The request's agent id: `agent.id`, or "unknown" when the body names none. */
export function agentIdOf(body: Buffer, span: BodyOutline['agent']): string {
  if (!span) return 'unknown';
  const refuse = (why: string) => new RequestRefused(400, `agent ${why}`, 'invalid_body');
  // An agent is a few short strings; anything much larger is not one.
  if (span.end - span.start > 64 * 1024) throw refuse('is larger than 64 KiB');
  let agent: unknown;
  try {
    agent = JSON.parse(body.subarray(span.start, span.end).toString('utf8'));
  } catch (err) {
    throw refuse(`is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (agent === null || typeof agent !== 'object' || Array.isArray(agent)) throw refuse('must be an object');
  const id = (agent as { id?: unknown }).id;
  if (id === undefined) return 'unknown';
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 256) throw refuse('.id must be a string of 1 to 256 bytes');
  return id;
}
