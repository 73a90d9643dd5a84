// Hostile and broken ingest requests against the real collector CLI and a real Elasticsearch
// (issue #13): no single bad input stops the pipeline. A request fails as a whole only for
// what is the request's (not a batch: 400; over a request limit: 413 naming it); a bad event
// is dead-lettered with its reason and its neighbours are indexed; memory and the event loop
// stay the collector's whatever a client sends.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allDocs, count, esClient, startCollector, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const DEAD = 'logs-stacklens.deadletter-default';
const MiB = 1024 * 1024;

let collector: CollectorHandle;
beforeAll(async () => {
  // Defaults for every ingest limit: these are the figures an operator gets.
  collector = await startCollector(esUrl);
});
afterAll(async () => {
  await collector?.stop('SIGKILL');
});

async function post(c: CollectorHandle, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${c.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}`, ...headers } });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: res.status, json, ms: performance.now() - started };
}

const batch = (agentId: string, events: string[]) => `{"agent":{"id":"${agentId}","hostname":"h","version":"0"},"events":[${events.join(',')}]}`;
const event = (ns: string, id: string, doc: string = '') => `{"id":${JSON.stringify(id)},"dataset":"hostile","namespace":"${ns}","doc":{"@timestamp":"2024-11-16T10:30:00Z","message":"event ${id}"${doc ? `,${doc}` : ''}}}`;
const deadLetters = (agentId: string) => allDocs(es, DEAD, { term: { 'agent.id': agentId } });
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Runs `work` while probing /healthz every 25 ms; returns the slowest answer and how many came in meanwhile. */
async function healthzDuring<T>(c: CollectorHandle, work: Promise<T>): Promise<{ result: T; slowestMs: number; probes: number; peakRssMb: number }> {
  let done = false;
  let slowestMs = 0;
  let probes = 0;
  let peakRssMb = rssMb(c.proc.child.pid!);
  const rss = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(c.proc.child.pid!))), 25);
  const prober = (async () => {
    while (!done) {
      const started = performance.now();
      const res = await fetch(`${c.url}/healthz`);
      await res.text();
      if (!done) {
        slowestMs = Math.max(slowestMs, performance.now() - started);
        probes++;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    const result = await work;
    return { result, slowestMs, probes, peakRssMb };
  } finally {
    done = true;
    clearInterval(rss);
    await prober;
  }
}

describe('ingest: one bad input never stops the pipeline', () => {
  it('refuses 1,000,000 invalid events in a 2 MB body with 413 naming max_events_per_request, at once', async () => {
    const agentId = `zeros-${uniqueNamespace()}`;
    const body = batch(agentId, Array(1_000_000).fill('0'));
    expect(body.length).toBeGreaterThan(2_000_000);
    const res = await post(collector, '/v1/events', body);
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: expect.stringContaining('ingest.max_events_per_request (10000)'), limit: 'ingest.max_events_per_request' });
    // Was 30 s and a 500 (RangeError in the indexer), with 0.4 KB of dead letter per zero in memory.
    expect(res.ms).toBeLessThan(2_000);
    expect(await count(es, DEAD, { term: { 'agent.id': agentId } })).toBe(0);
  });

  it('takes 10,000 invalid events under the limit at once: 100 dead letters one by one, one summary for the other 9,900', async () => {
    const agentId = `ints-${uniqueNamespace()}`;
    // Distinct values: each would be a dead letter of its own without the cap.
    const res = await post(collector, '/v1/events', batch(agentId, Array.from({ length: 10_000 }, (_, i) => String(i))));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ indexed: 0, dead_lettered: 10_000 });
    expect(res.json.errors[0]).toBe('events[0]: must be an object, not 0');
    expect(res.ms).toBeLessThan(3_000);

    const dead = await deadLetters(agentId);
    expect(dead).toHaveLength(101);
    const single = dead.filter((d) => d._source.error.type === 'invalid_event');
    expect(single.map((d) => Number(d._source.event.original)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(single[0]._source.stacklens.stage).toBe('collector.validate');
    const summary = dead.find((d) => d._source.error.type === 'dead_letters_capped')!._source;
    expect(summary.stacklens.summarized).toEqual({ events: 9_900, by_type: { invalid_event: 9_900 } });
    expect(summary.error.message).toMatch(/^9900 more invalid events in this request were not kept one by one \(ingest.max_dead_letters_per_request is 100\)/);
    expect(summary.event.original).toBe('100');

    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^stacklens_collector_dead_letters_summarized_total 9900$/m);
    expect(metrics).toMatch(/^stacklens_collector_events_invalid_total\{type="invalid_event"\} 10000$/m);
    expect(metrics).toMatch(/^stacklens_collector_ingest_requests_refused_total\{limit="max_events_per_request"\} [1-9]/m);
  });

  it('indexes the valid events of a batch and dead-letters each bad one with its reason (deep docs, a 1,024-byte id, nested arrays, too large, not JSON)', async () => {
    const ns = uniqueNamespace();
    const agentId = `mixed-${ns}`;
    const deep = `"deep":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const arrays = `"arrays":${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    // Within max_depth (32), past Elasticsearch's mapping depth limit (20): refused by Elasticsearch, for this event only.
    const esDeep = `"esdeep":${'{"a":'.repeat(25)}1${'}'.repeat(25)}`;
    const events = [
      event(ns, 'ok-1'),
      event(ns, 'deep', deep),
      event(ns, 'é'.repeat(512)),
      event(ns, 'arrays', arrays),
      event(ns, 'ok-2'),
      event(ns, 'big', `"blob":"${'x'.repeat(4 * MiB + 10)}"`),
      event(ns, `esdeep-${ns}`, esDeep), // its dead letter keeps the event's id (event.id): unique per run
      '{"id":"broken","doc":}',
      event(ns, 'ok-3'),
    ];
    const res = await post(collector, '/v1/events', batch(agentId, events));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ indexed: 3, dead_lettered: 6 });

    const indexed = await allDocs(es, `logs-hostile-${ns}`);
    // The _id is namespaced by token and agent (#14); the event's own id is event.id.
    expect(indexed.map((d) => d._source.event.id).sort()).toEqual(['ok-1', 'ok-2', 'ok-3']);
    const dead = await deadLetters(agentId);
    const reasonOf = (pick: (text: string) => boolean) => dead.find((d) => pick(d._source.event.original))?._source;
    const deepLetter = reasonOf((t) => t.includes('"id":"deep"'))!;
    expect(deepLetter.error).toEqual({ type: 'event_too_deep', message: 'events[1]: the event nests objects and arrays 100002 levels deep; its doc may nest at most ingest.max_depth (32) levels' });
    // The raw event is kept, cut at 32 KiB, and flagged as cut.
    expect(Buffer.byteLength(deepLetter.event.original)).toBe(32 * 1024);
    expect(deepLetter.log.flags).toEqual(['original_truncated']);
    expect(deepLetter.stacklens.original_bytes).toBe(Buffer.byteLength(events[1]));
    expect(reasonOf((t) => t.includes('é'))!.error).toEqual({ type: 'invalid_event', message: 'events[2]: id is 1024 bytes (UTF-8); Elasticsearch ids are at most 512 bytes' });
    expect(reasonOf((t) => t.includes('"arrays"'))!.error.type).toBe('event_too_deep');
    expect(reasonOf((t) => t.includes('"id":"big"'))!.error).toEqual({ type: 'event_too_large', message: `events[5]: the event is ${Buffer.byteLength(events[5])} bytes; the limit is ingest.max_event_bytes (${4 * MiB})` });
    const esRefused = dead.find((d) => d._source.event.id === `esdeep-${ns}`)!._source;
    expect(esRefused.error.type).toBe('mapping');
    expect(esRefused.error.message).toMatch(/depth/);
    expect(esRefused.stacklens).toMatchObject({ stage: 'elasticsearch.index', target: { data_stream: `logs-hostile-${ns}`, dataset: 'hostile' } });
    const broken = reasonOf((t) => t === '{"id":"broken","doc":}')!;
    expect(broken.error.type).toBe('invalid_json');
    expect(dead).toHaveLength(6);
  });

  it('keeps /healthz under 1 s and RSS under 500 MB while 4 hostile requests of 14 MB are processed in parallel', async () => {
    const agentId = `dense-${uniqueNamespace()}`;
    // 10,000 events of 500 empty objects each: five million objects to parse, none of them valid.
    const events = Array.from({ length: 10_000 }, (_, i) => `{"n":${i},"doc":{"a":[${'{},'.repeat(499)}{}]}}`);
    const body = batch(agentId, events);
    expect(body.length).toBeGreaterThan(14 * MiB);
    const requests = Promise.all([
      ...Array.from({ length: 4 }, () => post(collector, '/v1/events', body)),
      post(collector, '/v1/events', batch(agentId, Array(1_000_000).fill('0'))),
    ]);
    const { result, slowestMs, probes, peakRssMb } = await healthzDuring(collector, requests);
    expect(result.map((r) => r.status)).toEqual([200, 200, 200, 200, 413]);
    for (const r of result.slice(0, 4)) expect(r.json).toMatchObject({ indexed: 0, dead_lettered: 10_000 });
    expect(probes).toBeGreaterThanOrEqual(5);
    expect(slowestMs).toBeLessThan(1_000);
    // Before: four 2 MB requests took the collector to 5.9 GB.
    expect(peakRssMb).toBeLessThan(500);
  });

  it('answers a body over its route\'s limit with 413 naming that route\'s limit', async () => {
    const over = (bytes: number) => 'x'.repeat(bytes + 1);
    const ingest = await post(collector, '/v1/events', Buffer.alloc(16 * MiB + 1, 0x20));
    expect(ingest.status).toBe(413);
    expect(ingest.json).toEqual({ error: expect.stringContaining('max_body_bytes (16777216 bytes after decompression)'), limit: 'max_body_bytes' });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, string | Buffer, Record<string, string>, string, string][] = [
      ['/slack/commands', over(MiB), form, 'the Slack endpoints (/slack/*): 1048576 bytes', 'slack_body_bytes'],
      ['/slack/events', over(MiB), {}, 'the Slack endpoints (/slack/*): 1048576 bytes', 'slack_body_bytes'],
      ['/mattermost/commands', `text=${over(64 * 1024)}`, form, 'the Mattermost endpoints (/mattermost/*): 65536 bytes', 'mattermost_body_bytes'],
      ['/mattermost/actions', JSON.stringify({ context: over(64 * 1024) }), {}, 'the Mattermost endpoints (/mattermost/*): 65536 bytes', 'mattermost_body_bytes'],
      ['/api/silences', JSON.stringify({ reason: over(64 * 1024) }), {}, 'the API (/api/*): 65536 bytes', 'api_body_bytes'],
    ];
    for (const [path, body, headers, limitText, limit] of cases) {
      const res = await post(collector, path, body, headers);
      expect(res.status, path).toBe(413);
      expect(res.json, path).toEqual({ error: `body larger than the limit of ${limitText}`, limit });
      expect(JSON.stringify(res.json), path).not.toContain('16777216');
    }
  });
});

describe('ingest limits come from collector.yaml', () => {
  let small: CollectorHandle;
  beforeAll(async () => {
    small = await startCollector(esUrl, {
      extra: 'detection:\n  enabled: false\nmax_body_bytes: 64KiB\ningest:\n  max_events_per_request: 20\n  max_event_bytes: 2KiB\n  max_depth: 4\n  max_dead_letters_per_request: 2\n',
    });
  });
  afterAll(async () => {
    await small?.stop('SIGKILL');
  });

  it('applies each configured limit and names it', async () => {
    const ns = uniqueNamespace();
    const agentId = `small-${ns}`;
    expect((await post(small, '/v1/events', batch(agentId, Array(21).fill('0')))).json).toMatchObject({ limit: 'ingest.max_events_per_request', error: expect.stringContaining('(20)') });
    expect((await post(small, '/v1/events', Buffer.alloc(65 * 1024, 0x20))).json).toMatchObject({ limit: 'max_body_bytes', error: expect.stringContaining('(65536 bytes') });

    const fourDeep = `"d":{"a":{"b":{"c":1}}}`; // doc level 1, d 2, a 3, b 4
    const fiveDeep = `"d":{"a":{"b":{"c":{"e":1}}}}`;
    const res = await post(small, '/v1/events', batch(agentId, [event(ns, 'ok', fourDeep), event(ns, 'deep', fiveDeep), event(ns, 'big', `"m2":"${'x'.repeat(2048)}"`), '1', '2', '3']));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ indexed: 1, dead_lettered: 5 });
    expect(res.json.errors).toEqual([
      'events[1]: the event nests objects and arrays 6 levels deep; its doc may nest at most ingest.max_depth (4) levels',
      expect.stringMatching(/^events\[2\]: the event is \d+ bytes; the limit is ingest.max_event_bytes \(2048\)$/),
      'events[3]: must be an object, not 1',
      'events[4]: must be an object, not 2',
      'events[5]: must be an object, not 3',
    ]);
    await waitFor('the indexed event', async () => (await count(es, `logs-hostile-${ns}`)) === 1, 10_000);
    const dead = await deadLetters(agentId);
    // max_dead_letters_per_request: 2 → two kept, the other three in the summary.
    expect(dead.map((d) => d._source.error.type).sort()).toEqual(['dead_letters_capped', 'event_too_deep', 'event_too_large']);
    expect(dead.find((d) => d._source.error.type === 'dead_letters_capped')!._source.stacklens.summarized).toEqual({ events: 3, by_type: { invalid_event: 3 } });
  });
});
