import { describe, expect, it } from 'vitest';
import { checkEvent, checkEventBytes, docProblem, preview, MAX_ID_BYTES } from './validate.js';
import { DEFAULT_INGEST_LIMITS } from './ingest/limits.js';

const limits = DEFAULT_INGEST_LIMITS;
const valid = (over: Record<string, unknown> = {}, doc: Record<string, unknown> = {}) => ({
  id: 'abc.1',
  dataset: 'pos',
  namespace: 'default',
  doc: { '@timestamp': '2024-11-16T10:30:00Z', message: 'Order completed', ...doc },
  ...over,
});
/** An object nested `levels` deep: {"a":{"a":…1…}} (the outer object is level 1). */
const nested = (levels: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
};
const bytesOf = (v: unknown) => Buffer.from(JSON.stringify(v));
/** What body-outline.ts measures, for a value written with JSON.stringify. */
const shapeOf = (text: string) => {
  let depth = 0;
  let deepest = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      containers++;
      deepest = Math.max(deepest, ++depth);
    } else if (c === '}' || c === ']') depth--;
  }
  return { depth: deepest, containers };
};
const checkJson = (v: unknown, l = limits) => {
  const b = bytesOf(v);
  return checkEventBytes(b, shapeOf(b.toString()), 7, l);
};
const failure = (c: ReturnType<typeof checkEvent>) => (c.ok ? 'ok' : `${c.type}: ${c.reason}`);

describe('checkEvent: the wire format, one event at a time', () => {
  it('accepts an agent event as it is sent', () => {
    expect(checkEvent(valid(), 0, limits)).toMatchObject({ ok: true });
    expect(checkEvent(valid({ raw: '[line]' }), 0, limits)).toMatchObject({ ok: true });
  });

  it('counts the id in UTF-8 bytes, as Elasticsearch does: 512 × "é" is 1,024 bytes', () => {
    expect(checkEvent(valid({ id: 'é'.repeat(256) }), 0, limits).ok).toBe(true);
    const tooLong = checkEvent(valid({ id: 'é'.repeat(512) }), 3, limits);
    expect(failure(tooLong)).toBe(`invalid_event: events[3]: id is 1024 bytes (UTF-8); Elasticsearch ids are at most ${MAX_ID_BYTES} bytes`);
    expect(checkEvent(valid({ id: 'x'.repeat(512) }), 0, limits).ok).toBe(true);
    expect(checkEvent(valid({ id: 'x'.repeat(513) }), 0, limits).ok).toBe(false);
  });

  it('refuses what is not an event, saying what and where', () => {
    expect(failure(checkEvent(0, 4, limits))).toBe('invalid_event: events[4]: must be an object, not 0');
    expect(failure(checkEvent([1, 2], 0, limits))).toContain('must be an object, not an array of 2');
    expect(failure(checkEvent(valid({ id: '' }), 0, limits))).toContain('id must be a non-empty string');
    expect(failure(checkEvent(valid({ id: 42 }), 0, limits))).toContain('not 42');
    expect(failure(checkEvent(valid({ dataset: 'Has Spaces' }), 0, limits))).toContain('dataset "Has Spaces" is not a valid dataset name');
    expect(failure(checkEvent(valid({ dataset: 'stacklens.deadletter' }), 0, limits))).toContain('reserved');
    expect(failure(checkEvent(valid({ dataset: 'stacklens' }), 0, limits))).toContain('reserved');
    expect(failure(checkEvent(valid({ dataset: 'chat' }), 0, limits))).toContain('reserved');
    expect(failure(checkEvent(valid({ namespace: 'a-b' }), 0, limits))).toContain('namespace "a-b"');
    expect(failure(checkEvent(valid({ doc: 'text' }), 0, limits))).toContain('doc must be an object, not "text"');
    expect(failure(checkEvent(valid({ raw: 5 }), 0, limits))).toContain('raw must be a string');
  });

  it('checks the types the collector relies on in the doc', () => {
    expect(failure(checkEvent(valid({}, { '@timestamp': undefined }), 0, limits))).toContain('doc.@timestamp is missing');
    expect(failure(checkEvent(valid({}, { '@timestamp': 'yesterday' }), 0, limits))).toContain('not a date');
    expect(failure(checkEvent(valid({}, { message: { text: 'x' } }), 0, limits))).toContain('doc.message must be a string, not an object');
    // The collector writes event.dataset and stacklens.message_template into these: a string there would be silently changed.
    expect(failure(checkEvent(valid({}, { event: 'login' }), 0, limits))).toContain('doc.event must be an object');
    expect(failure(checkEvent(valid({}, { stacklens: [1] }), 0, limits))).toContain('doc.stacklens must be an object');
    // A dotted name is the nested field to Elasticsearch: under agent/event/stacklens it is
    // moved to its nested place, where the collector's own values overwrite it.
    const nested = checkEvent(valid({}, { 'agent.id': 'forged', 'event.duration': 5, 'stacklens.x.y': 1, 'log.level': 'info' }), 0, limits);
    expect(nested.ok && nested.event.doc).toEqual(expect.objectContaining({ agent: { id: 'forged' }, event: { duration: 5 }, stacklens: { x: { y: 1 } }, 'log.level': 'info' }));
    expect(nested.ok && Object.keys(nested.event.doc)).not.toContain('agent.id');
    expect(failure(checkEvent(valid({}, { agent: { id: 'a' }, 'agent.id': 'b' }), 0, limits))).toContain('doc holds agent.id twice');
    expect(failure(checkEvent(valid({}, { agent: { id: 'a' }, 'agent.id.x': 'b' }), 0, limits))).toContain('names a field inside "id"');
    for (const key of ['event.__proto__.polluted', 'agent..id', 'event.', 'stacklens.constructor']) {
      expect(failure(checkEvent(valid({}, { [key]: 'x' }), 0, limits)), key).toContain('is not a field name');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes the agent\'s own parse failures (no timestamp needed), but only with a well-formed error', () => {
    const parseFailure = { id: 'x.1', dataset: 'pos', namespace: 'default', doc: { message: 'bad line' }, error: { type: 'pos.format', message: 'no' }, raw: 'bad line' };
    expect(checkEvent(parseFailure, 0, limits).ok).toBe(true);
    expect(failure(checkEvent({ ...parseFailure, error: { type: 1 } }, 0, limits))).toContain('error must be');
    expect(failure(checkEvent({ ...parseFailure, error: 'boom' }, 0, limits))).toContain('error must be');
  });

  it('refuses a number JSON cannot carry back (1e400 parses to Infinity and would be indexed as null)', () => {
    const c = checkEventBytes(Buffer.from('{"id":"a","dataset":"pos","namespace":"default","doc":{"@timestamp":"2024-11-16T10:30:00Z","n":[1e400]}}'), { depth: 3, containers: 3 }, 0, limits);
    expect(failure(c)).toContain('number too large');
  });

  it('measures the doc\'s depth without recursion: level 1 is the doc, max_depth levels pass', () => {
    expect(docProblem(nested(32), 32)).toBeUndefined();
    expect(docProblem(nested(33), 32)).toContain('deeper than ingest.max_depth (32)');
    expect(checkEvent(valid({ doc: { '@timestamp': '2024-11-16T10:30:00Z', ...nested(32) } }), 0, limits).ok).toBe(true);
    expect(failure(checkEvent(valid({ doc: { '@timestamp': '2024-11-16T10:30:00Z', ...nested(33) } }), 0, limits))).toContain('deeper than ingest.max_depth');
    // A million levels, as JSON.parse can build them: an answer, not a RangeError.
    const deep = JSON.parse(`${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`);
    expect(docProblem(deep, 32)).toContain('deeper');
  });
});

describe('checkEventBytes: size and depth before parsing', () => {
  it('accepts a valid event and refuses invalid JSON or UTF-8 with its own type', () => {
    expect(checkJson(valid()).ok).toBe(true);
    expect(failure(checkEventBytes(Buffer.from('{"id":}'), { depth: 1, containers: 1 }, 2, limits))).toMatch(/^invalid_json: events\[2\]: the event is not valid JSON/);
    expect(failure(checkEventBytes(Buffer.from([0x7b, 0xff, 0x7d]), { depth: 1, containers: 1 }, 0, limits))).toContain('not valid UTF-8');
  });

  it('refuses an event over max_event_bytes by its size in bytes, naming the key', () => {
    const small = { ...limits, max_event_bytes: 1024 };
    expect(checkJson(valid({}, { message: 'x'.repeat(800) }), small).ok).toBe(true);
    const c = checkJson(valid({}, { message: 'é'.repeat(600) }), small); // 600 characters, 1,200 bytes
    expect(failure(c)).toMatch(/^event_too_large: events\[7\]: the event is \d+ bytes; the limit is ingest\.max_event_bytes \(1024\)$/);
  });

  it('refuses an event too deep for max_depth from the measured depth, without parsing it', () => {
    // Not JSON at all past the brackets: had it been parsed, the reason would be invalid_json.
    const c = checkEventBytes(Buffer.from('{"doc":{[[[[not json'), { depth: 34, containers: 6 }, 1, limits);
    expect(failure(c)).toBe('event_too_deep: events[1]: the event nests objects and arrays 34 levels deep; its doc may nest at most ingest.max_depth (32) levels');
    // nested(n) spread into a doc makes the doc n levels deep.
    expect(checkJson(valid({ doc: { '@timestamp': '2024-11-16T10:30:00Z', ...nested(32) } })).ok).toBe(true);
    expect(failure(checkJson(valid({ doc: { '@timestamp': '2024-11-16T10:30:00Z', ...nested(33) } })))).toMatch(/^event_too_deep/);
  });

  it('refuses an event that would take far more memory parsed than its size (mostly empty objects)', () => {
    const dense = valid({}, { a: Array.from({ length: 20_000 }, () => ({})) });
    expect(failure(checkJson(dense, { ...limits, max_event_bytes: 64 * 1024 }))).toMatch(/^event_too_large: .*20003 objects and arrays in \d+ bytes/);
    expect(checkJson(dense).ok).toBe(true); // about 1.3 MB parsed: within 2 × 4 MiB
  });
});

describe('preview', () => {
  it('quotes at most a short part of what it describes', () => {
    expect(preview('x'.repeat(1_000_000)).length).toBeLessThan(100);
    expect(preview(nested(100_000))).toBe('an object');
    expect(preview(undefined)).toBe('missing');
  });
});
