// Property test of POST /v1/events against the real collector and Elasticsearch (#13):
// random and adversarial bodies never get a 500, /healthz keeps answering within a second,
// the collector's RSS stays bounded, and the counts add up — every event of an accepted
// batch is acknowledged as indexed, duplicate or dead-lettered, and is found in
// Elasticsearch. Seeded (STACKLENS_FUZZ_SEED / STACKLENS_FUZZ_RUNS).
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { esClient, startCollector, uniqueNamespace, type CollectorHandle } from './helpers.js';

const SEED = Number(process.env.STACKLENS_FUZZ_SEED ?? 20261201);
const RUNS = Math.min(Number(process.env.STACKLENS_FUZZ_RUNS ?? 100), 3000);
const RSS_BOUND_MB = 600;
const esUrl = inject('esUrl');
const es = esClient(esUrl);
let collector: CollectorHandle;

beforeAll(async () => {
  collector = await startCollector(esUrl, { extra: 'detection:\n  enabled: false\n' });
  return () => collector.stop('SIGKILL');
});

const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${collector.proc.child.pid}/status`, 'utf8'))![1]) / 1024;
const ns = uniqueNamespace();
let serial = 0;

/** An event that may or may not be valid: ids, datasets, docs, timestamps drawn from hostile values. */
const event = fc.record(
  {
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constant('é'.repeat(512)), fc.constant(''), fc.integer(), fc.constant(null)),
    dataset: fc.oneof(fc.constant('fuzz'), fc.constant('stacklens.deadletter'), fc.string({ maxLength: 12 }), fc.constant('UPPER')),
    namespace: fc.oneof(fc.constant(ns), fc.string({ maxLength: 8 })),
    doc: fc.oneof(
      fc.record({ '@timestamp': fc.oneof(fc.constant('2024-11-16T10:30:00Z'), fc.string(), fc.integer(), fc.constant('-271821-04-20T00:00:00Z')), message: fc.oneof(fc.string(), fc.json(), fc.anything()) }, { requiredKeys: [] }),
      fc.anything(),
      fc.integer({ min: 1, max: 200 }).map((n) => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
    ),
  },
  { requiredKeys: [] },
);
/** A well-formed event with random content (so every batch can mix good and bad). */
const goodEvent = fc.record({
  id: fc.string({ minLength: 1, maxLength: 20 }),
  dataset: fc.constant('fuzz'),
  namespace: fc.constant(ns),
  doc: fc.record({ '@timestamp': fc.date({ min: new Date('2000-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), message: fc.string(), labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string()) }),
});
const body = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 2, arbitrary: goodEvent }, { weight: 2, arbitrary: event }, { weight: 1, arbitrary: fc.anything() }), { maxLength: 30 }).map((events) => ({ agent: { id: 'fuzz' }, events })) },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.record({ agent: fc.anything(), events: fc.anything() }, { requiredKeys: [] }) },
);

describe('fuzzing POST /v1/events', () => {
  it('never a 500; every event of an accepted batch accounted for and found; /healthz < 1 s; RSS bounded', async () => {
    let accepted = 0;
    const ids: string[] = [];
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (b, gzip) => {
        // Every string id is made unique to this run, so what was indexed can be found by id.
        if (b && typeof b === 'object' && Array.isArray((b as any).events)) {
          for (const e of (b as any).events) {
            if (e && typeof e === 'object' && typeof e.id === 'string') {
              e.id = `${e.id}-${ns}-${serial++}`;
              ids.push(e.id);
            }
          }
        }
        const text = JSON.stringify(b) ?? 'undefined';
        const res = await fetch(`${collector.url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${collector.token}`, 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
          body: gzip ? (await import('node:zlib')).gzipSync(text) : text,
        });
        const answer = await res.json();
        expect(res.status, `${res.status} ${JSON.stringify(answer).slice(0, 300)} for ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status === 200) {
          const sent = (b as any).events.length;
          // The counts add up: every event indexed, a duplicate, or dead-lettered (invalid ones beyond the cap in one summary).
          expect(answer.indexed + answer.duplicates + answer.dead_lettered, JSON.stringify(answer)).toBe(sent);
          accepted += answer.indexed;
        } else expect(answer.error).toEqual(expect.any(String));
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const started = performance.now();
    expect((await fetch(`${collector.url}/healthz`)).ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(rssMb()).toBeLessThan(RSS_BOUND_MB);
    // Everything acknowledged as indexed is there, once (dead letters aside).
    await es.indices.refresh({ index: 'logs-*' });
    // By the events' own ids (event.id): the _id is namespaced by token and agent (#14).
    // In slices: a terms query takes at most 65,536 values.
    let found = 0;
    for (let i = 0; i < ids.length; i += 50_000) {
      found += (await es.count({ index: 'logs-*,-logs-stacklens.deadletter-*', query: { terms: { 'event.id': ids.slice(i, i + 50_000) } } })).count;
    }
    expect(found).toBe(accepted);
    expect(accepted).toBeGreaterThan(0);
  });
});
