// The event wire format between agent and collector. Both sides import this module;
// nothing about the format is defined anywhere else.
import { createHash } from 'node:crypto';

/** Path of the collector's ingest endpoint. */
export const EVENTS_PATH = '/v1/events';

/** One log line, parsed (or not) by the agent. */
export interface WireEvent {
  /** Deterministic id: the same line always gets the same id, so a retried batch never doubles it. */
  id: string;
  /** Target dataset: the event lands in the data stream logs-<dataset>-<namespace>. */
  dataset: string;
  namespace: string;
  /** The ECS document to index. Present even for a failed parse (then it carries the source fields). */
  doc: Record<string, unknown>;
  /** Set when the agent could not parse the line: the line goes to the dead-letter stream with this reason. */
  error?: { type: string; message: string };
  /** The raw line, sent only when `error` is set (it is already `doc.message` otherwise). */
  raw?: string;
}

/**
 * Request header the agent sets on a batch it may have delivered before — a retry after a
 * failed or unanswered attempt, lines re-read after a restart up to what it had shipped, a
 * spooled batch sent again — to the earliest time (epoch ms) the batch can first have been
 * sent. The collector then checks those ids in the backing indices of the data stream that
 * were written to since then before creating (a rollover in between would otherwise let them
 * in twice); other batches do not pay for that lookup. `1` (any time) checks them all.
 */
export const REDELIVERY_HEADER = 'x-stacklens-redelivery';

/** The body of POST /v1/events (JSON, usually gzip-compressed). */
export interface WireBatch {
  agent: { id: string; hostname: string; version: string };
  events: WireEvent[];
}

/** The collector's answer: the agent may commit the batch's offsets once it receives it. */
export interface WireAck {
  /** Documents Elasticsearch accepted for the first time. */
  indexed: number;
  /** Documents Elasticsearch already had (409 on create): a retry, counted as success. */
  duplicates: number;
  /** Events that went to the dead-letter data stream, with their reasons. */
  dead_lettered: number;
  /** Up to a few reasons, for the agent's log. */
  errors: string[];
}

/**
 * Event ids: derived from (agent id, file identity, byte offset of the line), so the same
 * line always gets the same id. A hash of agent and file, computed once per file
 * (eventIdPrefix), followed by the offset in base 36 (eventId): ~20 characters, far inside
 * Elasticsearch's 512-byte _id limit, and cheap on the hot path.
 */
export function eventIdPrefix(agentId: string, fileIdentity: string): string {
  return `${createHash('sha1').update(`${agentId}\u0000${fileIdentity}`).digest('base64url').slice(0, 16)}.`;
}

export function eventId(prefix: string, offset: number): string {
  return prefix + offset.toString(36);
}


/** Dataset and namespace names allowed by the data stream naming scheme. */
export const DATASET_PATTERN = /^[a-z0-9_.]{1,100}$/;
export const NAMESPACE_PATTERN = /^[a-z0-9_]{1,100}$/;

export const DEADLETTER_DATASET = 'stacklens.deadletter';
