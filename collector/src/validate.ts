// Checks each event of a batch on its own, before Elasticsearch sees it. A bad event does not
// fail the batch: it goes to the dead-letter stream with the reason, and the good ones around
// it are indexed.
//
// The order matters for cost: size and nesting depth are read off the event's bytes in the
// request (body-outline.ts measured them), so an event over either limit is never parsed;
// then the event alone is parsed; then the wire format's types are checked. Every walk over
// client data is iterative — no nesting a client sends can reach the call stack — and every
// reason quotes at most a short preview of what it refuses.
import { isUtf8 } from 'node:buffer';
import { DATASET_PATTERN, NAMESPACE_PATTERN, DEADLETTER_DATASET, type WireEvent } from '@stacklens/common';
import type { IngestLimits } from './ingest/limits.js';

/** Elasticsearch refuses an _id longer than 512 bytes (UTF-8), however few characters. */
export const MAX_ID_BYTES = 512;

export type InvalidType = 'invalid_event' | 'invalid_json' | 'event_too_large' | 'event_too_deep';

export type Checked =
  | { ok: true; event: WireEvent }
  /** `value`: the event as parsed, when it could be (its dataset may still name where it was going). */
  | { ok: false; type: InvalidType; reason: string; value?: unknown };

type Limits = Pick<IngestLimits, 'max_event_bytes' | 'max_depth'>;

/** Heap taken by one parsed object or array (with its slot in its parent), measured on Node 20. */
export const CONTAINER_HEAP_BYTES = 64;
/**
 * Parsed, an event may take at most this many times max_event_bytes (its text plus
 * CONTAINER_HEAP_BYTES per object or array). Log events are far inside it (an object per
 * 50–200 bytes); a text that is mostly `{},{},…` — 25× its size once parsed, and over 100 ms
 * of JSON.parse per MiB, blocking everything else — is not.
 */
export const PARSED_SIZE_FACTOR = 2;

/** What parsing an event will take in memory, roughly: its text plus its objects and arrays. */
export const heapEstimate = (bytes: number, containers: number): number => bytes + containers * CONTAINER_HEAP_BYTES;

/**
 * One element of a request's `events`, given as its JSON bytes and what body-outline.ts
 * measured on them: nesting depth (the event object is level 1, its doc level 2) and the
 * number of objects and arrays.
 */
export function checkEventBytes(bytes: Buffer, shape: { depth: number; containers: number }, index: number, limits: Limits): Checked {
  const bad = (type: InvalidType, reason: string): Checked => ({ ok: false, type, reason: `events[${index}]: ${reason}` });
  if (bytes.length > limits.max_event_bytes) {
    return bad('event_too_large', `the event is ${bytes.length} bytes; the limit is ingest.max_event_bytes (${limits.max_event_bytes})`);
  }
  if (shape.depth > limits.max_depth + 1) {
    return bad('event_too_deep', `the event nests objects and arrays ${shape.depth} levels deep; its doc may nest at most ingest.max_depth (${limits.max_depth}) levels`);
  }
  const heap = heapEstimate(bytes.length, shape.containers);
  if (heap > PARSED_SIZE_FACTOR * limits.max_event_bytes) {
    return bad('event_too_large', `the event holds ${shape.containers} objects and arrays in ${bytes.length} bytes: about ${heap} bytes once parsed, over ${PARSED_SIZE_FACTOR} × ingest.max_event_bytes (${limits.max_event_bytes})`);
  }
  if (!isUtf8(bytes)) return bad('invalid_json', 'the event is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return bad('invalid_json', `the event is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return checkEvent(value, index, limits);
}

/** The wire format's rules for one parsed event (size is measured on the bytes, by checkEventBytes). */
export function checkEvent(value: unknown, index: number, limits: Pick<IngestLimits, 'max_depth'>): Checked {
  const bad = (reason: string): Checked => ({ ok: false, type: 'invalid_event', reason: `events[${index}]: ${reason}`, value });
  if (!isPlainObject(value)) return bad(`must be an object, not ${preview(value)}`);
  const e = value as Partial<WireEvent>;
  if (typeof e.id !== 'string' || e.id.length === 0) return bad(`id must be a non-empty string, not ${preview(e.id)}`);
  const idBytes = Buffer.byteLength(e.id);
  if (idBytes > MAX_ID_BYTES) return bad(`id is ${idBytes} bytes (UTF-8); Elasticsearch ids are at most ${MAX_ID_BYTES} bytes`);
  if (typeof e.dataset !== 'string' || !DATASET_PATTERN.test(e.dataset)) return bad(`dataset ${preview(e.dataset)} is not a valid dataset name (${DATASET_PATTERN.source})`);
  // Streams the collector writes itself: chat capture (an agent must not forge Slack or
  // Mattermost messages) and StackLens' own (dead letters, audit).
  if (e.dataset === DEADLETTER_DATASET || e.dataset === 'chat' || e.dataset === 'stacklens' || e.dataset.startsWith('stacklens.')) return bad(`dataset ${e.dataset} is reserved (the collector writes it itself)`);
  if (typeof e.namespace !== 'string' || !NAMESPACE_PATTERN.test(e.namespace)) return bad(`namespace ${preview(e.namespace)} is not a valid namespace (${NAMESPACE_PATTERN.source})`);
  if (!isPlainObject(e.doc)) return bad(`doc must be an object, not ${preview(e.doc)}`);
  if (e.raw !== undefined && typeof e.raw !== 'string') return bad(`raw must be a string, not ${preview(e.raw)}`);
  if (e.error !== undefined) {
    // The agent's own parse failure: dead-lettered by the caller with this reason.
    if (!isPlainObject(e.error) || typeof e.error.type !== 'string' || e.error.type.length === 0 || e.error.type.length > 200 || typeof e.error.message !== 'string') {
      return bad('error must be {"type": "<1–200 characters>", "message": "<text>"}');
    }
    if (e.doc.message !== undefined && typeof e.doc.message !== 'string') return bad(`doc.message must be a string, not ${preview(e.doc.message)}`);
    return { ok: true, event: e as WireEvent };
  }
  const ts = e.doc['@timestamp'];
  if (ts === undefined) return bad('doc.@timestamp is missing');
  if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) return bad(`doc.@timestamp ${preview(ts)} is not a date`);
  if (e.doc.message !== undefined && typeof e.doc.message !== 'string') return bad(`doc.message must be a string, not ${preview(e.doc.message)}`);
  // The collector adds event.id, event.dataset, event.ingested, agent.id and
  // stacklens.message_template: those parents must be objects.
  for (const key of ['event', 'agent', 'stacklens'] as const) {
    if (e.doc[key] !== undefined && !isPlainObject(e.doc[key])) return bad(`doc.${key} must be an object, not ${preview(e.doc[key])}`);
  }
  const dotted = nestCollectorSetKeys(e.doc);
  if (dotted) return bad(dotted);
  const problem = docProblem(e.doc, limits.max_depth);
  if (problem) return bad(problem);
  return { ok: true, event: e as WireEvent };
}

/**
 * What in a document Elasticsearch would not get as sent: nesting past `maxDepth` (the doc is
 * level 1), or a number JSON.parse turned into Infinity (1e400), which would be indexed as
 * null. Iterative, with an explicit stack.
 */
export function docProblem(doc: Record<string, unknown>, maxDepth: number): string | undefined {
  const values: unknown[] = [doc];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (depth > maxDepth) return `doc nests objects and arrays deeper than ingest.max_depth (${maxDepth}) levels`;
    const children = Array.isArray(value) ? value : Object.values(value as object);
    for (const child of children) {
      if (typeof child === 'number' && !Number.isFinite(child)) return 'doc holds a number too large for a 64-bit float (e.g. 1e400); it would be indexed as null';
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** Objects of a document the collector adds fields to (event.id/dataset/ingested, agent.id, stacklens.message_template). */
const COLLECTOR_SET = new Set(['event', 'agent', 'stacklens']);
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype', '']);

/**
 * Elasticsearch reads a dotted name as the nested field, so {"agent.id": "b"} beside the
 * agent.id the collector sets would store both and match queries for either. ECS loggers
 * write such names ("event.dataset", "event.duration"): under the objects the collector
 * sets, each is moved to its nested place (where the collector's own values then win). A
 * name that collides with a value already there, or that cannot be a field, is the reason
 * the event is dead-lettered.
 */
export function nestCollectorSetKeys(doc: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(doc)) {
    const dot = key.indexOf('.');
    if (dot < 0 || !COLLECTOR_SET.has(key.slice(0, dot))) continue;
    const path = key.split('.');
    if (path.some((p) => UNSAFE_SEGMENTS.has(p))) return `doc key ${preview(key)} is not a field name`;
    let parent = doc;
    for (const segment of path.slice(0, -1)) {
      const next = Object.hasOwn(parent, segment) ? parent[segment] : (parent[segment] = {});
      if (!isPlainObject(next)) return `doc key ${preview(key)} names a field inside ${preview(segment)}, which holds ${preview(next)}`;
      parent = next;
    }
    const last = path[path.length - 1];
    if (Object.hasOwn(parent, last)) return `doc holds ${path.join('.')} twice: as ${preview(key)} and nested`;
    parent[last] = doc[key];
    delete doc[key];
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A short, safe description of a value for a reason: never the whole of a client's value. */
export function preview(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}… (${v.length} characters)` : JSON.stringify(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? `an array of ${v.length}` : 'an object';
}
