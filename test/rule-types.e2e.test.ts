// Every rule type against the real Elasticsearch: documents with known timestamps go into a
// data stream, each rule is evaluated by the Elasticsearch source, and the same documents
// through the in-memory source (what `stacklens rules test` uses) must give the same matches.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installTemplates } from '@stacklens/elasticsearch';
import { ElasticsearchSource, MemorySource, RULE_TYPES, TemplateCatalog, buildRule, describeError, ruleSchema, templateFields, type Match, type Rule } from '@stacklens/detection';
import { REPO, esClient, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';
import { VIEWER, api } from './stack.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const ns = uniqueNamespace();
const NOW = Date.now();
const ago = (s: number) => NOW - s * 1000;

type Doc = Record<string, unknown>;
const docs: Doc[] = [];
/** The message templates as the collector gives them at ingest. */
const templates = new TemplateCatalog(undefined);
function add(kind: string, secondsAgo: number, fields: Doc = {}, message = `${kind} event`): void {
  docs.push({ '@timestamp': new Date(ago(secondsAgo)).toISOString(), message, kind, ...fields, stacklens: templateFields(templates.assignNow(ns, message)) });
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
// blacklist / whitelist: users by store; one event without a user.
for (const [s, store, user] of [[10, 'A', 'mallory'], [20, 'A', 'mallory'], [30, 'B', 'eve'], [40, 'A', 'alice'], [50, 'B', 'bob']] as const) add('listed', s, { store, user_name: user }, `login by user ${s}`);
add('listed', 45, { store: 'A' }, 'login by user 45');
// frequency per group: 3 PRODUCT_NOT_FOUND + 3 INVENTORY_SHORTAGE in store A, 3 PRODUCT_NOT_FOUND in B.
for (const s of [50, 100, 150]) add('mixed', s, { store: 'A', error_type: 'PRODUCT_NOT_FOUND' }, `Product #${s} not found`);
for (const s of [60, 110, 160]) add('mixed', s, { store: 'A', error_type: 'INVENTORY_SHORTAGE' }, `Insufficient stock for product ${s}`);
for (const s of [70, 120, 170]) add('mixed', s, { store: 'B', error_type: 'PRODUCT_NOT_FOUND' }, `Product #${s} not found`);
// new_term on a field with more values than one listing reads (5,000): 6,000 seen in the
// last half hour, then one that sorts after all of them.
for (let i = 0; i < 6000; i++) add('many_terms', 300 + (i % 1500), { term: `T${String(i).padStart(5, '0')}` });
add('many_terms', 10, { term: 'ZZZ_NEW' });
add('many_terms', 12, { term: 'T00042' });

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
  blacklist: { type: 'blacklist', compare_key: 'user_name', blacklist: ['mallory', 'eve'], window: '1m', group_by: ['store'], filter: { kind: 'listed' } },
  whitelist: { type: 'whitelist', compare_key: 'user_name', whitelist: ['mallory', 'eve'], window: '1m', group_by: ['store'], filter: { kind: 'listed' } },
  frequency_mixed: { type: 'frequency', threshold: 5, window: '5m', group_by: ['store'], filter: { kind: 'mixed' } },
  new_term_many: { type: 'new_term', fields: ['term'], window: '1m', lookback: '1h', filter: { kind: 'many_terms' } },
};

function rule(name: string): Rule {
  const spec = ruleSchema.parse({ name: `rt-${name.replace('_', '-')}`, severity: 'high', dataset: 'rt', namespace: ns, filter: { kind: name }, ...RULES[name] });
  return buildRule(spec, `${name}.yml`);
}

const normalize = (ms: Match[]) =>
  ms
    .map((m) => ({ key: m.key, template: m.template, messageTemplate: m.messageTemplate, count: m.count }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function evaluateBoth(name: string) {
  const r = rule(name);
  const memory = new MemorySource();
  for (const d of [...docs].sort((a, b) => String(a['@timestamp']).localeCompare(String(b['@timestamp'])))) memory.add(r, Date.parse(String(d['@timestamp'])), d);
  const fromEs = await r.ruleType.evaluate(r, NOW, new ElasticsearchSource(es));
  const fromMemory = await r.ruleType.evaluate(r, NOW, memory);
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

  it('frequency: ≥ 3 in the window per store, named after its message template', async () => {
    const m = await evaluateBoth('frequency');
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ key: { store: 'A' }, template: '', messageTemplate: templates.peek(ns, 'Product #1 has no price')?.id, scope: 'group', count: 4 });
    // Samples are fetched only for matches that change an incident.
    expect(m[0].samples).toBeUndefined();
    const samples = await new ElasticsearchSource(es).samples(rule('frequency'), m[0].key, m[0].sampleRange!.template, m[0].sampleRange!.from, m[0].sampleRange!.to, 3);
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

  it('frequency counts per group, not per message template: 3 PRODUCT_NOT_FOUND + 3 INVENTORY_SHORTAGE reach 5', async () => {
    const m = await evaluateBoth('frequency_mixed');
    expect(m.map((x) => [x.key, x.count, x.summary])).toEqual([[{ store: 'A' }, 6, '6 events in 5m (threshold 5) across 2 message templates']]);
  });

  it('blacklist: the events whose compare_key is listed', async () => {
    const m = await evaluateBoth('blacklist');
    expect(m.map((x) => [x.key.store, x.count]).sort()).toEqual([['A', 2], ['B', 1]]);
  });

  it('whitelist: the events whose compare_key is not listed (ignore_null: an event without it is not)', async () => {
    const m = await evaluateBoth('whitelist');
    expect(m.map((x) => [x.key.store, x.count]).sort()).toEqual([['A', 1], ['B', 1]]);
  });

  it('new_term finds a new value on a field with more than 5,000 values, as the offline replay does', async () => {
    const m = await evaluateBoth('new_term_many');
    expect(m.map((x) => x.key)).toEqual([{ term: 'ZZZ_NEW' }]);
  });

  it('a metric Elasticsearch cannot compute fails with its reason', async () => {
    const r = rule('metric_aggregation');
    const keyword = buildRule(ruleSchema.parse({ ...r.spec, name: 'rt-avg-keyword', field: 'store', metric: 'avg' }), 'avg.yml');
    const err = await keyword.ruleType.evaluate(keyword, NOW, new ElasticsearchSource(es)).then(() => undefined, (e: unknown) => e);
    expect(describeError(err)).toMatch(/Field \[store\] of type \[keyword\] is not supported for aggregation \[avg\]/);
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

describe('a rule that fails at every evaluation', () => {
  let collector: CollectorHandle | undefined;
  afterAll(async () => {
    await collector?.stop('SIGKILL');
  });

  it('shows as failing, with the reason and since when, in GET /api/rules and `stacklens rules check`', async () => {
    const dir = tempDir();
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    const base = `severity: low\ndataset: rt\nnamespace: ${ns}\nwindow: 5m\nrun_every: 1s\n`;
    writeFileSync(join(rulesDir, 'avg-keyword.yml'), `name: rt-avg-keyword\n${base}type: metric_aggregation\nfield: store\nmetric: avg\nmax_threshold: 1\nfilter: { kind: metric }\n`);
    writeFileSync(join(rulesDir, 'fine.yml'), `name: rt-fine\n${base}type: metric_aggregation\nfield: ms\nmetric: avg\nmax_threshold: 100000\nfilter: { kind: metric }\n`);
    collector = await startCollector(esUrl, { dir, rulesDir, extra: `detection:\n  schedule: 500ms\napi:\n  viewer_tokens: ["${VIEWER}"]\n` });
    const rules = await waitFor('both rules evaluated', async () => {
      const res = await api(collector!, '/rules', { token: VIEWER });
      const byName = Object.fromEntries(res.body.rules.map((r: any) => [r.name, r]));
      return byName['rt-avg-keyword']?.state === 'failing' && byName['rt-fine']?.state === 'ok' ? byName : undefined;
    }, 30_000, 250);
    expect(rules['rt-avg-keyword']).toMatchObject({ state: 'failing', error: expect.stringMatching(/Field \[store\] of type \[keyword\] is not supported for aggregation \[avg\]/), failures: expect.any(Number) });
    expect(Date.parse(rules['rt-avg-keyword'].failing_since)).toBeLessThanOrEqual(Date.parse(rules['rt-avg-keyword'].last_evaluated_at));
    expect(rules['rt-fine'].error).toBeUndefined();

    const check = spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'rules', 'check', rulesDir, '--collector', collector.url, '--token', VIEWER], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(1);
    expect(check.stdout).toMatch(/^2 rule\(s\) valid, 0 invalid$/m);
    expect(check.stdout).toMatch(/^failing: rt-avg-keyword \(.*avg-keyword\.yml\) since \S+, \d+ evaluation\(s\) in a row: illegal_argument_exception: Field \[store\] of type \[keyword\] is not supported for aggregation \[avg\]$/m);
    expect(check.stdout).toMatch(/^collector: 2 rule\(s\) loaded — 1 ok, 1 failing, 0 not evaluated yet; 0 file\(s\) not loaded$/m);
  });
});
