import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatTailJson, parsePosLine, tailFields } from './pos.js';
import { parseChatbotLine } from './chatbot.js';
import { parseJsonLine, parsePlainLine } from './json.js';
import { ParseError } from './parse-error.js';

const ctx = { timeZone: 'UTC' };

describe('pos format', () => {
  it('parses the timestamp, level, message and JSON tail into ECS and pos.*', () => {
    const p = parsePosLine(
      '[2024-11-16T10:30:00Z] [CRITICAL] Pricing error in order | {"orderId":"ORD-1","storeNumber":"STORE_001","kioskNumber":"KIOSK_001","productId":999,"productName":"Mystery Product","errorType":"MISSING_PRICE"}',
      ctx,
    );
    const { fieldsJson, ...rest } = p;
    expect(rest).toEqual({ timestamp: '2024-11-16T10:30:00Z', level: 'critical', message: 'Pricing error in order' });
    expect(JSON.parse(`{${fieldsJson}}`)).toEqual({
      error: { type: 'MISSING_PRICE' },
      pos: { order_id: 'ORD-1', store_id: 'STORE_001', kiosk_id: 'KIOSK_001', product_id: 999, product_name: 'Mystery Product' },
    });
  });

  it('writes a flat tail as JSON text without parsing it, exactly as the parsed object would serialize; anything else goes the long way', () => {
    const key = fc.oneof(fc.constantFrom('orderId', 'storeNumber', 'storeId', 'errorType', 'error_type', '__proto__', 'constructor', 'toString', 'total', 'a b', 'ключ'), fc.string({ maxLength: 6 }));
    const scalar = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.constantFrom(true, false, null, 1e21, 123456789012345678, -0, 0.1),
      fc.constantFrom('"a\\u0041"', '1e5', '01', '-', '1.', '"x\ty"', '"\t"').map((raw) => ({ raw })),
    );
    const member = fc.tuple(key, fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 }))).map(([k, v]) => `${JSON.stringify(k)}:${v !== null && typeof v === 'object' && 'raw' in (v as object) ? (v as { raw: string }).raw : JSON.stringify(v)}`);
    const tail = fc.tuple(fc.array(member, { maxLength: 6 }), fc.constantFrom('', ' ', '\n'), fc.constantFrom('', ' ', 'x', ',', '}')).map(([ms, ws, after]) => `{${ws}${ms.join(`${ws},`)}${ws}}${after}`);
    // What the POS writes: plain strings, short numbers (the fast path's own ground).
    const plainValue = fc.oneof(fc.string({ maxLength: 12 }).filter((s) => !/["\\\u0000-\u001f]/.test(s)), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(16.5, 7.8, 0, true, null));
    const flatTail = fc.array(fc.tuple(key, plainValue), { maxLength: 8 }).map((ms) => JSON.stringify(Object.fromEntries(ms)));
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(tail, flatTail, fc.string({ maxLength: 40 })), (t) => {
        const text = flatTailJson(t);
        let slow: Record<string, unknown> | Error;
        try {
          slow = tailFields(t);
        } catch (err) {
          slow = err as Error;
        }
        if (text === undefined) return; // the long way: tailFields is the parser
        fast++;
        expect(slow).not.toBeInstanceOf(Error);
        expect(JSON.parse(`{${text}}`)).toEqual(slow);
      }),
      { seed: 20261201, numRuns: 2000 },
    );
    expect(fast).toBeGreaterThan(200); // the property saw the fast path, not only fallbacks
  });

  it('accepts a line without a JSON tail', () => {
    expect(parsePosLine('[2024-11-16T10:30:00+01:00] [INFO] Shift started', ctx)).toEqual({ timestamp: '2024-11-16T09:30:00.000Z', level: 'info', message: 'Shift started' });
  });

  it('rejects malformed lines with a reason', () => {
    expect(() => parsePosLine('hello', ctx)).toThrow(ParseError);
    expect(() => parsePosLine('[yesterday] [INFO] x', ctx)).toThrow('unparsable timestamp "yesterday"');
    expect(() => parsePosLine('[2024-11-16T10:30:00Z] [INFO] x | {"a":', ctx)).toThrow('invalid JSON after " | "');
  });
});

describe('chatbot format', () => {
  it('maps message_in and message_out', () => {
    const inbound = parseChatbotLine('{"ts":"2024-11-16T10:30:00Z","level":"info","event":"message_in","user_id":"u42","user_name":"Ana","text":"hi","conversation_id":"c9"}', ctx);
    expect(inbound).toEqual({
      timestamp: '2024-11-16T10:30:00Z',
      level: 'info',
      message: 'hi',
      fields: { chatbot: { event: 'message_in', hour_of_day: 10, day_of_week: '6-Sat', direction: 'in', conversation_id: 'c9' }, user: { id: 'u42', name: 'Ana' } },
    });
    const outbound = parseChatbotLine('{"ts":"2024-11-16T10:30:01Z","event":"message_out","user_id":"u42","text":"Hello!","response_time_ms":245}', ctx);
    expect(outbound.fields).toEqual({ chatbot: { event: 'message_out', hour_of_day: 10, day_of_week: '6-Sat', direction: 'out', response_time_ms: 245 }, user: { id: 'u42', name: undefined } });
    expect(outbound.level).toBe('info');
  });

  it('maps errors to error.*', () => {
    const p = parseChatbotLine('{"ts":"2024-11-16T10:30:01Z","event":"error","error_type":"LLM_TIMEOUT","error":"timed out"}', ctx);
    expect(p.level).toBe('error');
    expect(p.message).toBe('timed out');
    expect(p.fields?.error).toEqual({ type: 'LLM_TIMEOUT', message: 'timed out' });
  });

  it('rejects lines that are not chatbot events', () => {
    expect(() => parseChatbotLine('not json', ctx)).toThrow('invalid JSON');
    expect(() => parseChatbotLine('{"event":"message_in"}', ctx)).toThrow('missing "ts"');
    expect(() => parseChatbotLine('{"ts":"2024-11-16T10:30:01Z"}', ctx)).toThrow('missing "event"');
  });
});

describe('json and plain formats', () => {
  it('lifts time, message and level; passes the rest through', () => {
    expect(parseJsonLine('{"time":"2024-11-16T10:30:00Z","msg":"up","level":"WARN","service.name":"x","http":{"status":500}}', ctx)).toEqual({
      timestamp: '2024-11-16T10:30:00Z',
      level: 'warn',
      message: 'up',
      fields: { 'service.name': 'x', http: { status: 500 } },
    });
    expect(() => parseJsonLine('[1,2]', ctx)).toThrow('expected one JSON object per line');
  });

  it('plain keeps the line as the message', () => {
    expect(parsePlainLine('anything at all')).toEqual({ message: 'anything at all' });
  });
});

describe('json format on real-world shapes', () => {
  it('keeps plain values of ECS object fields (zap/logrus "error" string, docker "log" string)', () => {
    const zap = parseJsonLine('{"level":"error","ts":1497039058.81,"msg":"dial failed","error":"connection refused","event":"retry","user":"ana"}', ctx);
    expect(zap.message).toBe('dial failed');
    expect(zap.timestamp).toBe('2017-06-09T20:10:58.810Z');
    expect(zap.fields).toEqual({ error: { message: 'connection refused' }, event: { action: 'retry' }, user: { name: 'ana' } });
    const docker = parseJsonLine('{"log":"17/06/09 20:10:40 INFO executor.Executor: Running task\\n","stream":"stderr","time":"2017-06-09T20:10:40.123456789Z"}', ctx);
    expect(docker.message).toBe('17/06/09 20:10:40 INFO executor.Executor: Running task');
    expect(docker.timestamp).toBe('2017-06-09T20:10:40.123456789Z');
    expect(docker.fields).toEqual({ stream: 'stderr' });
  });

  it('reads epoch milliseconds, comma fractions and +0000 offsets instead of dead-lettering them', () => {
    expect(parseJsonLine('{"@timestamp":1497039058810,"message":"x"}', ctx).timestamp).toBe('2017-06-09T20:10:58.810Z');
    expect(parseJsonLine('{"@timestamp":"2017-06-09T20:10:41,190+0000","message":"x"}', ctx).timestamp).toBe('2017-06-09T20:10:41.190Z');
  });
});
