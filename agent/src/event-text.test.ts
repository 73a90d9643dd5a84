// The event text EventBuilder.encode writes directly (the agent's hot path) against the object
// it stands for: `{id, dataset, namespace, doc, raw?}` with doc = `{'@timestamp', message,
// ...fields, ...shared, log}`, the line's own log.* and event.* kept under ours and a plain
// header's host.* beside host.name. Random parser results (any keys, any JSON values, the
// shared keys among them) must give exactly that object once the text is parsed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InputConfig } from './config.js';
import { AGENT_VERSION, EventBuilder } from './event-builder.js';
import type { LineParser, ParsedLine } from './parsers/index.js';

const SEED = Number(process.env.STACKLENS_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.STACKLENS_FUZZ_RUNS ?? 500);
const NO_REDACTION = { card_numbers: false, bearer_tokens: false, api_keys: false, passwords: false, emails: false };

const input = (format: InputConfig['format'], service?: string): InputConfig =>
  ({ paths: ['x'], format, dataset: 'app.web', namespace: 'prod', service, max_line_bytes: 1 << 20, close_inactive: 0, redact: NO_REDACTION, encoding: 'utf-8', decompress: false, timezone: 'UTC' }) as InputConfig;

/** The document as the agent built it as an object before it wrote text (the reference). */
function expectedDoc(b: { agentId: string; host: string; input: InputConfig }, parsed: ParsedLine, path: string, identity: string, offset: number, flags?: string[]): Record<string, unknown> {
  const log: Record<string, unknown> = { file: { path, identity }, offset };
  const allFlags = flags && parsed.flags ? [...flags, ...parsed.flags] : (flags ?? parsed.flags);
  if (allFlags) log.flags = allFlags;
  if (parsed.level) log.level = parsed.level;
  const base = {
    host: { name: b.host },
    agent: { id: b.agentId, type: 'stacklens', version: AGENT_VERSION },
    data_stream: { type: 'logs', dataset: b.input.dataset, namespace: b.input.namespace },
    event: { dataset: b.input.dataset },
    ...(b.input.service ? { service: { name: b.input.service } } : {}),
  };
  const fields = parsed.fields;
  const doc: Record<string, unknown> = { '@timestamp': parsed.timestamp, message: parsed.message, ...fields, ...base };
  if (fields) {
    doc.log = typeof fields.log === 'object' ? { ...(fields.log as object), ...log } : log;
    if (typeof fields.event === 'object') doc.event = { ...(fields.event as object), dataset: b.input.dataset };
    if (b.input.format === 'plain' && typeof fields.host === 'object' && fields.host !== null) doc.host = { ...(fields.host as object), name: b.host };
  } else doc.log = log;
  // What JSON keeps of it (undefined values go).
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

const key = fc.oneof(fc.constantFrom('host', 'agent', 'event', 'log', 'service', 'data_stream', '@timestamp', 'message', '__proto__', 'pos', 'error', 'a.b', 'é"\\'), fc.string({ maxLength: 8 }));
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }));
const parsedLine: fc.Arbitrary<ParsedLine> = fc.record(
  {
    timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    level: fc.constantFrom(undefined, 'info', 'error', 'wärn"'),
    message: fc.string({ unit: 'grapheme', maxLength: 40 }),
    fields: fc.option(fc.dictionary(key, value, { maxKeys: 6 }), { nil: undefined }),
    flags: fc.option(fc.array(fc.constantFrom('pattern_mismatch', 'x'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  },
  { requiredKeys: ['timestamp', 'message'] },
);

describe('EventBuilder.encode: the event text', () => {
  for (const [format, service] of [['plain', undefined], ['json', 'checkout'], ['pos', undefined]] as const) {
    it(`is the object it stands for, for any parser result (format ${format}${service ? ', with service' : ''})`, () => {
      const cfg = input(format, service);
      const builder = new EventBuilder('agent-1', 'host-1', cfg);
      fc.assert(
        fc.property(parsedLine, fc.option(fc.constantFrom(['truncated'], ['invalid_utf8']), { nil: undefined }), fc.nat(), (parsed, flags, offset) => {
          // A parser's result is used once: give encode a copy, keep the original for the reference.
          const copy = structuredClone(parsed);
          const parse: LineParser = () => copy;
          const text = builder.encode('the line', '/var/log/a "b".log', 'identity-1', offset, flags ? { flags } : undefined, parse);
          const event = JSON.parse(text) as { id: string; dataset: string; namespace: string; doc: Record<string, unknown>; raw?: string };
          expect(event.dataset).toBe('app.web');
          expect(event.namespace).toBe('prod');
          expect(event.id).toMatch(/^[\w-]+\.[0-9a-z]+$/);
          expect(event.doc).toEqual(expectedDoc({ agentId: 'agent-1', host: 'host-1', input: cfg }, parsed, '/var/log/a "b".log', 'identity-1', offset, flags));
          expect(event.raw === undefined).toBe(format !== 'json');
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  it('a line whose fields JSON cannot hold (a cycle) is its dead letter, counted; the next line is not affected', () => {
    const builder = new EventBuilder('agent-1', 'host-1', input('plain'));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const bad = JSON.parse(builder.encode('the line', '/x.log', 'id', 7, undefined, () => ({ message: 'm', fields: { x: cyclic } })));
    expect(bad).toMatchObject({ error: { type: 'agent.encode' }, raw: 'the line', doc: { message: 'the line', log: { offset: 7 } } });
    expect(builder.unencodable).toBe(1);
    const good = JSON.parse(builder.encode('next', '/x.log', 'id', 20));
    expect(good.error).toBeUndefined();
    expect(good.doc.message).toBe('next');
  });
});

describe('EventBuilder.encode: a POS tail sent as text is masked as its parsed fields would be', () => {
  it('for any flat tail with or without secrets, the event equals the one built from the parsed, redacted fields', async () => {
    const { REDACT_DEFAULTS, Redactor } = await import('@stacklens/common');
    const { tailFields } = await import('./parsers/pos.js');
    const { redactFields } = await import('./processors/redact-fields.js');
    const redact = { ...REDACT_DEFAULTS, emails: true };
    const cfg = { ...input('pos'), redact } as InputConfig;
    const builder = new EventBuilder('agent-1', 'host-1', cfg);
    // Secrets built at run time (no credential-shaped literal in the repository).
    const secret = fc.constantFrom('4111111111111111', '4111 1111 1111 1111', `Bearer ${'t'.repeat(20)}`, `sk-${'a'.repeat(24)}`, 'ana@example.org', 'https://u:pw@host/x', `AKIA${'Q'.repeat(16)}`, 'plain', 'ORD-123', '16.5');
    const key = fc.constantFrom('orderId', 'note', 'password', 'pwd', 'apiKey', 'token', 'authorization', 'card', 'cardNumber', 'userPass', 'x');
    const value = fc.oneof(secret, fc.string({ maxLength: 8 }).filter((s) => !/["\\\u0000-\u001f]/.test(s)), fc.integer(), fc.constantFrom(4111111111111111, 1497039058810));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 6 }), fc.constantFrom('Order completed', 'card 4111111111111111 declined'), (members, message) => {
        const tail = JSON.stringify(Object.fromEntries(members));
        const line = `[2024-11-16T10:30:00Z] [ERROR] ${message} | ${tail}`;
        const event = JSON.parse(builder.encode(line, '/x.log', 'id', 0)) as { doc: Record<string, unknown> };
        const fields = tailFields(tail);
        redactFields(new Redactor(redact), fields, redact.passwords, redact.api_keys);
        expect(event.doc.pos).toEqual(fields.pos);
        expect(event.doc.error).toEqual(fields.error);
        expect(event.doc.message).toBe(new Redactor(redact).redact(message));
      }),
      { seed: SEED, numRuns: RUNS * 4 },
    );
  });
});

describe('EventBuilder.encode: the raw copy of a json or chatbot line never carries what the document masks or drops', () => {
  it('masks the copy when the parser moved or dropped a secret (found by an outside tester)', async () => {
    const { REDACT_DEFAULTS } = await import('@stacklens/common');
    const card = ['4111', '1111', '1111', '1111'].join('');
    const pw = ['hunter2', 'CANARY'].join('-');
    const lines: [InputConfig['format'], string][] = [
      ['chatbot', JSON.stringify({ ts: '2024-11-16T10:30:00Z', event: 'message_in', user_id: 'u1', text: 'hi', userPassword: pw })],
      ['chatbot', JSON.stringify({ ts: '2024-11-16T10:30:00Z', event: 'error', error: { card } })],
      ['json', JSON.stringify({ message: 'x', userPassword: pw })],
      ['json', JSON.stringify({ message: 'x', ts: card })],
    ];
    for (const [format, line] of lines) {
      const builder = new EventBuilder('agent-1', 'host-1', { ...input(format), redact: REDACT_DEFAULTS } as InputConfig);
      const text = builder.encode(line, '/x.log', 'id', 0);
      expect(text, line).not.toContain(card);
      expect(text, line).not.toContain(pw);
    }
  });
});
