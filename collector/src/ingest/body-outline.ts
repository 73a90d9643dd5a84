// Reads the outline of an ingest body without building it: where `agent` is, and where each
// element of `events` starts and ends, with how deep it nests. Nothing is parsed here, so a
// body of a million tiny events, or of one event nested a million levels deep, costs one pass
// over its bytes — not a million objects, not a million stack frames. A request over the
// event-count limit is refused before any event is parsed; each event is then parsed on its
// own, or not at all when it is too large or too deep (see validate.ts).
//
// Bytes are scanned, not characters: every structural character of JSON is ASCII, and no
// byte of a multi-byte UTF-8 sequence is ever ASCII, so byte positions are safe cut points.
import type { Pacer } from './pacer.js';

/** Where one element of `events` is in the body, and how deep it nests (the element itself is 1; a scalar is 0). */
export interface EventSpan {
  start: number;
  end: number;
  depth: number;
  /** Objects and arrays in it: what parsing it will cost in memory beyond its bytes. */
  containers: number;
}

export interface BodyOutline {
  /** The `agent` value, when the body has one. */
  agent?: { start: number; end: number };
  events: EventSpan[];
}

/** A request refused as a whole: 400 (not the agreed shape) or 413 (over a limit, named in `limit`). */
export class RequestRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 413,
    message: string,
    /** The configuration key of the limit, 'invalid_body', or 'agent_id' (403: an agent id the token may not send as). */
    readonly limit: string,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

const invalid = (message: string) => new RequestRefused(400, `body is not {"agent": {...}, "events": [...]}: ${message}`, 'invalid_body');

function skipSpace(body: Buffer, i: number): number {
  while (i < body.length && isSpace(body[i])) i++;
  return i;
}

/** The position after the string that opens at `i` (a quote), or -1 when it never closes. */
export function stringEnd(body: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = body.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    // Escaped when an odd number of backslashes comes right before it.
    let slashes = 0;
    for (let k = quote - 1; k > i && body[k] === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * The end of the value that starts at `i` and how deep it nests, or end -1 when the body ends
 * inside it. Brackets are counted, not matched: inside an event a mismatch is found when the
 * event alone is parsed (and dead-letters that event only).
 */
export function valueEnd(body: Buffer, i: number): { end: number; depth: number; containers: number } {
  const first = body[i];
  if (first === QUOTE) return { end: stringEnd(body, i), depth: 0, containers: 0 };
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number, true, false or null: up to the next separator (its spelling is checked when parsed).
    let j = i;
    while (j < body.length) {
      const c = body[j];
      if (c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || isSpace(c) || c === QUOTE || c === OPEN_ARRAY || c === OPEN_OBJECT) break;
      j++;
    }
    return { end: j > i ? j : -1, depth: 0, containers: 0 };
  }
  let depth = 0;
  let deepest = 0;
  let containers = 0;
  for (let j = i; j < body.length; j++) {
    const c = body[j];
    if (c === QUOTE) {
      const end = stringEnd(body, j);
      if (end < 0) return { end: -1, depth: deepest, containers };
      j = end - 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      containers++;
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) return { end: j + 1, depth: deepest, containers };
    }
  }
  return { end: -1, depth: deepest, containers };
}

function readKey(body: Buffer, start: number, end: number): string {
  const inner = body.subarray(start + 1, end - 1);
  if (!inner.includes(BACKSLASH)) return inner.toString('utf8');
  try {
    return JSON.parse(body.subarray(start, end).toString('utf8')) as string;
  } catch {
    throw invalid(`a key at byte ${start} is not a valid JSON string`);
  }
}

/**
 * The outline of `{"agent": {...}, "events": [...]}`. Throws RequestRefused: 413 as soon as
 * `events` has more than `maxEvents` elements, 400 when the body is not that shape. Keys other
 * than agent and events are skipped unread (the agent sends none).
 */
export async function outlineBody(body: Buffer, opts: { maxEvents: number; pacer: Pacer }): Promise<BodyOutline> {
  const outline: BodyOutline = { events: [] };
  let sawEvents = false;
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_OBJECT) throw invalid(i >= body.length ? 'the body is empty' : 'it does not start with {');
  i = skipSpace(body, i + 1);
  if (body[i] === CLOSE_OBJECT) throw invalid('it has no "events"');
  for (;;) {
    if (body[i] !== QUOTE) throw invalid(`expected a key at byte ${i}`);
    const keyEnd = stringEnd(body, i);
    if (keyEnd < 0) throw invalid('the body ends inside a key');
    const key = readKey(body, i, keyEnd);
    i = skipSpace(body, keyEnd);
    if (body[i] !== COLON) throw invalid(`expected : after "${key.slice(0, 40)}"`);
    i = skipSpace(body, i + 1);
    if (i >= body.length) throw invalid('the body ends before a value');
    if (key === 'events') {
      if (sawEvents) throw invalid('"events" is given twice');
      sawEvents = true;
      if (body[i] !== OPEN_ARRAY) throw invalid('"events" must be an array');
      i = await readEvents(body, i, outline.events, opts);
    } else {
      const { end } = valueEnd(body, i);
      if (end < 0) throw invalid(`the value of "${key.slice(0, 40)}" never ends`);
      if (key === 'agent') outline.agent = { start: i, end };
      await opts.pacer.spent(end - i);
      i = end;
    }
    i = skipSpace(body, i);
    if (body[i] === COMMA) {
      i = skipSpace(body, i + 1);
      continue;
    }
    if (body[i] === CLOSE_OBJECT) break;
    throw invalid(`expected , or } at byte ${i}`);
  }
  if (skipSpace(body, i + 1) < body.length) throw invalid('something follows the closing }');
  if (!sawEvents) throw invalid('it has no "events"');
  return outline;
}

/** Reads the spans of the array at `i`; returns the position after its closing bracket. */
async function readEvents(body: Buffer, i: number, spans: EventSpan[], opts: { maxEvents: number; pacer: Pacer }): Promise<number> {
  i = skipSpace(body, i + 1);
  if (body[i] === CLOSE_ARRAY) return i + 1;
  for (;;) {
    if (body[i] === COMMA || body[i] === CLOSE_ARRAY) throw invalid(`events[${spans.length}] is missing (a doubled or trailing comma?)`);
    const { end, depth, containers } = valueEnd(body, i);
    if (end < 0) throw invalid(`events[${spans.length}] never ends (the body is cut short?)`);
    if (spans.length === opts.maxEvents) {
      throw new RequestRefused(413, `more than ${opts.maxEvents} events in one request: the limit is ingest.max_events_per_request (${opts.maxEvents}); send smaller batches`, 'max_events_per_request');
    }
    spans.push({ start: i, end, depth, containers });
    await opts.pacer.spent(end - i);
    i = skipSpace(body, end);
    if (body[i] === COMMA) {
      i = skipSpace(body, i + 1);
      continue;
    }
    if (body[i] === CLOSE_ARRAY) return i + 1;
    if (i >= body.length) throw invalid('the body ends inside "events" (cut short?)');
    throw invalid(`expected , or ] after events[${spans.length - 1}] (byte ${i})`);
  }
}
