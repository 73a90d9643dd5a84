// Every rule type against the real Elasticsearch: documents with known timestamps go into a
// data stream, each rule is evaluated by the Elasticsearch source, and the same documents
// through the in-memory source (what `stacklens rules test` uses) must give the same matches.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installTemplates } from '@stacklens/elasticsearch';
import { ElasticsearchSource, MemorySource, RULE_TYPES, buildRule, messageTemplate, ruleSchema, type Match, type Rule } from '@stacklens/detection';
import { esClient, uniqueNamespace } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const ns = uniqueNamespace();
const NOW = Date.now();
const ago = (s: number) => NOW - s * 1000;

type Doc = Record<string, unknown>;
const docs: Doc[] = [];
function add(kind: string, secondsAgo: number, fields: Doc = {}, message = `${kind} event`): void {
  docs.push({ '@timestamp': new Date(ago(secondsAgo)).toISOString(), message, kind, ...fields, stacklens: { message_template: messageTemplate(message) } });
}

// frequency / any: store A has 4 matching errors in the last minute (two products), B has 2.
for (const [i, s] of [10, 20, 30, 40].entries()) add('frequency', s, { store: 'A' }, `Product #${100 + i} has no price`);
for (const s of [15, 25]) add('frequency', s, { store: 'B' }, 'Product #7 has no price');
add('frequency', 600, { store: 'C' }, 'Product #8 has no price'); // outside the window
// spike: A goes from 2 (2–4 min ago) to 8 (last 2 min); B stays at 4 and 4.
for (const s of [150, 200, 300]) add('spike', s, { store: 'A' });
for (let i = 0; i < 8; i++) add('spike', 5 + i * 10, { store: 'A' });
for (let i = 0; i < 4; i++) add('spike', 130 + i * 20, { store: 'B' });
add('spike', 300, { store: 'B' }); // A and B have a baseline: first seen more than two windows ago
for (let i = 0; i < 4; i++) add('spike', 10 + i * 20, { store: 'B' });
// flatline: h1 wrote from 10 to 6 minutes ago, then nothing; h2 writes until now.
for (let s = 600; s >= 360; s -= 30) add('flatline', s, { bot: 'h1' });
for (let s = 600; s >= 0; s -= 30) add('flatline', s, { bot: 'h2' });
// new_term: OLD has been seen for 30 minutes, NEW appears in the last 30 seconds.
add('new_term', 1800, { error_type: 'OLD' });
add('new_term', 20, { error_type: 'OLD' });
add('new_term', 25, { error_type: 'NEW' });
// cardinality: store A has 5 distinct users in the window, B has 2.
for (const u of ['u1', 'u2', 'u3', 'u4', 'u5']) add('cardinality', 30, { store: 'A', user_id: u });
for (const u of ['u1', 'u2', 'u1']) add('cardinality', 30, { store: 'B', user_id: u });
// metric_aggregation: A's response times have a slow tail (p95 > 2000), B's do not.
for (let i = 0; i < 17; i++) add('metric', 60, { store: 'A', ms: 100 + i * 50 });
for (const v of [3000, 3500, 4000]) add('metric', 60, { store: 'A', ms: v });
for (let i = 0; i < 20; i++) add('metric', 60, { store: 'B', ms: 100 + i * 20 });
// change: kiosk K1's config version goes v1 → v2 20 s ago; K2 stays on v1.
add('change', 600, { kiosk: 'K1', version: 'v1' });
add('change', 20, { kiosk: 'K1', version: 'v2' });
add('change', 600, { kiosk: 'K2', version: 'v1' });
add('change', 20, { kiosk: 'K2', version: 'v1' });
// percentage_match: A fails 10 of 20 payments, B 1 of 20.
for (let i = 0; i < 20; i++) add('percentage', 40, { store: 'A', status: i < 10 ? 'failed' : 'ok' });
for (let i = 0; i < 20; i++) add('percentage', 40, { store: 'B', status: i < 1 ? 'failed' : 'ok' });

const RULES: Record<string, Record<string, unknown>> = {
  frequency: { type: 'frequency', threshold: 3, window: '1m', group_by: ['store'] },
  any: { type: 'any', window: '1m', group_by: ['store'], filter: { kind: 'frequency' } },
  spike: { type: 'spike', window: '2m', spike_height: 3, spike_type: 'both', threshold_ref: 1, threshold_cur: 1, group_by: ['store'] },
  flatline: { type: 'flatline', threshold: 1, window: '5m', lookback: '1h', group_by: ['bot'] },
  new_term: { type: 'new_term', fields: ['error_type'], window: '1m', lookback: '1h' },
  cardinality: { type: 'cardinality', field: 'user_id', max_cardinality: 3, window: '5m', group_by: ['store'] },
  metric_aggregation: { type: 'metric_aggregation', field: 'ms', metric: 'percentile', percentile: 95, max_threshold: 2000, window: '5m', group_by: ['store'], filter: { kind: 'metric' } },
  change: { type: 'change', compare_key: 'version', window: '1m', lookback: '1h', group_by: ['kiosk'] },
  percentage_match: { type: 'percentage_match', match_filter: { status: 'failed' }, max_percentage: 30, min_denominator: 10, window: '5m', group_by: ['store'], filter: { kind: 'percentage' } },
};

function rule(name: string): Rule {
  const spec = ruleSchema.parse({ name: `rt-${name.replace('_', '-')}`, severity: 'high', dataset: 'rt', namespace: ns, filter: { kind: name }, ...RULES[name] });
  return buildRule(spec, `${name}.yml`);
}

const normalize = (ms: Match[]) =>
  ms
    .map((m) => ({ key: m.key, template: m.template, count: m.count }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function evaluateBoth(name: string) {
  const r = rule(name);
  const memory = new MemorySource();
  for (const d of [...docs].sort((a, b) => String(a['@timestamp']).localeCompare(String(b['@timestamp'])))) memory.add(r, Date.parse(String(d['@timestamp'])), d);
  const fromEs = await RULE_TYPES[r.spec.type].evaluate(r, NOW, new ElasticsearchSource(es));
  const fromMemory = await RULE_TYPES[r.spec.type].evaluate(r, NOW, memory);
  expect(normalize(fromEs)).toEqual(normalize(fromMemory));
  return fromEs;
}

describe('rule types against real Elasticsearch (and the same answers from memory)', () => {
  beforeAll(async () => {
    await installTemplates(es);
    const operations = docs.flatMap((d) => [{ create: { _index: `logs-rt-${ns}` } }, d]);
    const res = await es.bulk({ operations, refresh: true });
    expect(res.items.filter((i) => i.create?.error).map((i) => i.create?.error?.reason)).toEqual([]);
  });

  it('frequency: ≥ 3 in the window per store, one match per message template', async () => {
    const m = await evaluateBoth('frequency');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { store: 'A' }, template: 'Product #<num> has no price', count: 4 });
    // Samples are fetched only for matches that change an incident.
    expect(m[0].samples).toBeUndefined();
    const samples = await new ElasticsearchSource(es).samples(rule('frequency'), m[0].key, m[0].template, m[0].sampleRange!.from, m[0].sampleRange!.to, 3);
    expect(samples.map((d) => d['@timestamp'])).toEqual([ago(10), ago(20), ago(30)].map((t) => new Date(t).toISOString()));
  });

  it('any: every store with a match in the window', async () => {
    const m = await evaluateBoth('any');
    expect(m.map((x) => x.key.store).sort()).toEqual(['A', 'B']);
  });

  it('spike: the store whose rate tripled, not the steady one', async () => {
    const m = await evaluateBoth('spike');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { store: 'A' }, template: 'event rate spiked up', count: 8, value: 4 });
  });

  it('flatline: the host silent for the whole window, not the one still writing', async () => {
    const m = await evaluateBoth('flatline');
    expect(m).toHaveLength(1);
    expect(m[0].key).toEqual({ bot: 'h1' });
    expect(m[0].count).toBe(0);
  });

  it('new_term: a value not seen in the lookback before the window', async () => {
    const m = await evaluateBoth('new_term');
    expect(m).toHaveLength(1);
    expect(m[0].key).toEqual({ error_type: 'NEW' });
  });

  it('cardinality: distinct users above the maximum', async () => {
    const m = await evaluateBoth('cardinality');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { store: 'A' }, value: 5 });
  });

  it('metric_aggregation: p95 above the threshold', async () => {
    const m = await evaluateBoth('metric_aggregation');
    expect(m).toHaveLength(1);
    expect(m[0].key).toEqual({ store: 'A' });
    expect(Number(m[0].value)).toBeGreaterThan(2000);
  });

  it('change: a field whose value changed for a key inside the window', async () => {
    const m = await evaluateBoth('change');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { kiosk: 'K1' }, value: '"v1" → "v2"' });
  });

  it('percentage_match: the share of failures above the maximum', async () => {
    const m = await evaluateBoth('percentage_match');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { store: 'A' }, value: 50 });
  });

  it('an Elasticsearch DSL query in the filter narrows what Elasticsearch counts', async () => {
    const spec = ruleSchema.parse({
      name: 'rt-dsl',
      severity: 'low',
      dataset: 'rt',
      namespace: ns,
      type: 'frequency',
      threshold: 1,
      window: '1m',
      group_by: ['store'],
      filter: { kind: 'frequency', query: { match_phrase: { message: 'Product #7' } } },
    });
    const r = buildRule(spec, 'dsl.yml');
    const m = await RULE_TYPES.frequency.evaluate(r, NOW, new ElasticsearchSource(es));
    expect(m.map((x) => [x.key.store, x.count])).toEqual([['B', 2]]);
  });
});
