// Property tests of the agent's line handling (#13): random and adversarial lines into every
// format never throw, always give an event that can be encoded for the wire, and either a
// document Elasticsearch can take (an ISO @timestamp, a string message) or a dead letter
// that keeps the line. Seeded and reproducible: STACKLENS_FUZZ_SEED / _RUNS change them
// (`npm run bench -- --only fuzz` runs many more).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORMATS, type InputConfig } from './config.js';
import { ContainerEnvelope } from './container-envelope.js';
import { EventBuilder } from './event-builder.js';
import { MultilineJoiner } from './multiline.js';
import { REDACT_DEFAULTS } from '@stacklens/common';

const SEED = Number(process.env.STACKLENS_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.STACKLENS_FUZZ_RUNS ?? 500);

const input = (format: (typeof FORMATS)[number]): InputConfig =>
  ({ paths: ['x'], format, dataset: 'fuzz', namespace: 'default', max_line_bytes: 1 << 20, close_inactive: 0, redact: REDACT_DEFAULTS, encoding: 'utf-8', decompress: false, timezone: 'UTC' }) as InputConfig;

const deep = fc.integer({ min: 1, max: 20_000 }).chain((n) => fc.constantFrom(`{"a":${'{"b":'.repeat(n)}1${'}'.repeat(n)}}`, `{"x":${'['.repeat(n)}${']'.repeat(n)}}`, `${'['.repeat(n)}`));
const timestamps = fc.oneof(fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid' : d.toISOString())), fc.integer(), fc.double(), fc.string(), fc.constantFrom('2017-06-09T20:10:41,190+0000', '-271821-04-20', '+275760-09-13T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2024-02-30T00:00:00Z'));
const jsonLine = fc.record({ ts: timestamps, '@timestamp': timestamps, time: timestamps, msg: fc.string(), message: fc.anything(), level: fc.anything(), log: fc.anything(), error: fc.anything(), event: fc.anything(), user: fc.anything(), text: fc.anything() }, { requiredKeys: [] }).map((o) => JSON.stringify(o));
const posLine = fc.tuple(timestamps, fc.string(), fc.string(), fc.oneof(fc.json(), fc.string())).map(([t, level, msg, tail]) => `[${String(t)}] [${level}] ${msg} | ${tail}`);
const dockerLine = fc.tuple(fc.string(), fc.constantFrom('stdout', 'stderr', ''), timestamps, fc.boolean()).map(([log, stream, time, final]) => JSON.stringify({ log: final ? `${log}\n` : log, stream, time }));
const criLine = fc.tuple(timestamps, fc.constantFrom('stdout', 'stderr', 'other'), fc.constantFrom('F', 'P', 'X', 'F:P'), fc.string()).map(([t, s, tag, text]) => `${String(t)} ${s} ${tag} ${text}`);
const anyLine = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.json(), deep, jsonLine, posLine, dockerLine, criLine);

function checkEvent(e: ReturnType<EventBuilder['build']>): void {
  const wire = JSON.stringify(e); // must not throw: this is what the shipper sends
  expect(typeof wire).toBe('string');
  if (e.error) {
    expect(typeof e.raw).toBe('string');
    expect(e.error.message.length).toBeGreaterThan(0);
  } else {
    expect(Number.isNaN(Date.parse(String(e.doc['@timestamp'])))).toBe(false);
    expect(String(e.doc['@timestamp'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
    expect(typeof e.doc.message).toBe('string');
  }
}

describe('fuzzing the agent', () => {
  for (const format of FORMATS) {
    it(`format ${format}: every line becomes an encodable event or a dead letter with its text`, () => {
      const builder = new EventBuilder('fuzz', 'host', input(format));
      fc.assert(
        fc.property(anyLine, (line) => {
          if (format === 'docker' || format === 'cri') {
            const env = new ContainerEnvelope(format, 1 << 20, (r) => checkEvent(builder.build(r.text, '/x', 'id', r.offset, r)));
            env.push(line, 0, line.length + 1);
            env.flush();
          } else checkEvent(builder.build(line, '/x', 'id', 0));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  it('multiline joining keeps every line exactly once, in order, whatever the patterns match', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 60 }), fc.constantFrom('^\\d', '^[A-Z]', '^$'), fc.integer({ min: 1, max: 5 }), (lines, start, maxLines) => {
        const joiner = new MultilineJoiner({ start_pattern: start, continuation_pattern: undefined, max_lines: maxLines, max_bytes: 1 << 20, timeout: 1000 });
        const out: string[] = [];
        let offset = 0;
        for (const l of lines) {
          const done = joiner.push(l, offset, offset + l.length + 1);
          if (done) out.push(done.text);
          offset += l.length + 1;
        }
        const rest = joiner.flush(Date.now(), true);
        if (rest) out.push(rest.text);
        expect(out.join('\n')).toBe(lines.join('\n'));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
