import { describe, expect, it } from 'vitest';
import { outlineBody, RequestRefused, stringEnd } from './body-outline.js';
import { Pacer } from './pacer.js';

const outline = (text: string | Buffer, maxEvents = 10_000) => outlineBody(typeof text === 'string' ? Buffer.from(text) : text, { maxEvents, pacer: new Pacer() });
const texts = async (text: string) => {
  const body = Buffer.from(text);
  const o = await outlineBody(body, { maxEvents: 100, pacer: new Pacer() });
  return o.events.map((s) => body.subarray(s.start, s.end).toString());
};
const refusal = async (text: string | Buffer, maxEvents?: number) => {
  try {
    await outline(text, maxEvents);
  } catch (err) {
    if (err instanceof RequestRefused) return { status: err.status, limit: err.limit, message: err.message };
    throw err;
  }
  throw new Error('not refused');
};

describe('outlineBody', () => {
  it('finds each event\'s bytes, depth and objects/arrays without parsing', async () => {
    const body = Buffer.from(' {"agent": {"id":"a-1"}, "events" : [ {"id":"x","doc":{"a":[1,{"b":2}]}} , 0,"s", [[]] ] }\n');
    const o = await outline(body);
    expect(body.subarray(o.agent!.start, o.agent!.end).toString()).toBe('{"id":"a-1"}');
    expect(o.events.map((s) => [body.subarray(s.start, s.end).toString(), s.depth, s.containers])).toEqual([
      ['{"id":"x","doc":{"a":[1,{"b":2}]}}', 4, 4],
      ['0', 0, 0],
      ['"s"', 0, 0],
      ['[[]]', 2, 2],
    ]);
  });

  it('is not fooled by brackets, quotes and escapes inside strings, nor by an escaped key', async () => {
    expect(await texts('{"ev\\u0065nts":[{"m":"]},{\\"[","n":"\\\\"},{"k":"\\\\\\""}]}')).toEqual(['{"m":"]},{\\"[","n":"\\\\"}', '{"k":"\\\\\\""}']);
    expect(await texts('{"events":[],"agent":{"id":"a"}}')).toEqual([]);
  });

  it('counts depth on the bytes, however deep: a million levels is a number, not a stack overflow', async () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    const o = await outline(`{"events":[${deep},{"ok":1}]}`);
    expect(o.events.map((s) => s.depth)).toEqual([1_000_000, 1]);
  });

  it('refuses a request over max_events_per_request with 413 before reading further', async () => {
    expect((await outline(`{"events":[${Array(5).fill(0).join(',')}]}`, 5)).events).toHaveLength(5);
    const r = await refusal(`{"events":[${Array(6).fill(0).join(',')}]}`, 5);
    expect(r).toMatchObject({ status: 413, limit: 'max_events_per_request' });
    expect(r.message).toContain('ingest.max_events_per_request (5)');
    // A million events: refused at the 6th, not after counting them all.
    const started = performance.now();
    expect((await refusal(`{"events":[${Array(1_000_000).fill(0).join(',')}]}`, 5)).status).toBe(413);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses a body that is not {"agent", "events"} with 400 and says why', async () => {
    const cases: [string, string][] = [
      ['', 'the body is empty'],
      ['[1]', 'does not start with {'],
      ['{}', 'no "events"'],
      ['{"agent":{}}', 'no "events"'],
      ['{"events":{}}', '"events" must be an array'],
      ['{"events":[],"events":[]}', 'given twice'],
      ['{"events":[1 2]}', 'expected , or ] after events[0]'],
      ['{"events":[1,]}', 'events[1] is missing'],
      ['{"events":[1,,2]}', 'events[1] is missing'],
      ['{"events":[1', 'the body ends inside "events"'],
      ['{"events":[{"a":1}', 'the body ends inside "events"'],
      ['{"events":[{"a":1', 'events[0] never ends'],
      ['{"events":[{"a":"unterminated}]}', 'never ends'],
      ['{"events":[]} x', 'something follows'],
      ['{"events" []}', 'expected : after "events"'],
      ['{events:[]}', 'expected a key'],
    ];
    for (const [text, why] of cases) {
      const r = await refusal(text);
      expect(r, text).toMatchObject({ status: 400, limit: 'invalid_body' });
      expect(r.message, text).toContain(why);
    }
  });
});

describe('stringEnd', () => {
  it('tells an escaped quote from a closing one by the backslashes before it', () => {
    const end = (s: string) => stringEnd(Buffer.from(s), 0);
    expect(end('"abc" x')).toBe(5);
    expect(end('"a\\"b" x')).toBe(6);
    expect(end('"a\\\\" x')).toBe(5);
    expect(end('"a\\\\\\"b" x')).toBe(8);
    expect(end('"never')).toBe(-1);
  });
});
