// The observability surface, checked against real components: demo data shipped by the
// agent CLI through the collector CLI (with the shipped rules, Jira and LLM protocol
// servers), Debian's Prometheus scraping both with prometheus/prometheus.yml; then every
// panel query of every provisioned dashboard — the request Grafana's datasource would send
// — must return data, and every datasource uid and field it names must exist.
// The Prometheus half needs Debian's prometheus package (prometheus, promtool): without it
// those tests are skipped outside CI and fail in CI (test/programs.ts); the Elasticsearch,
// Grafana-file and Kibana checks run either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { chatbotTurn, posErrorLine, posOrderLine, rng } from '@stacklens/demo';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { esClient, freePort, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, testSecret } from './stack.js';
import { FakeJira, FakeOpenAi } from './fakes/index.js';
import { missingProgram } from './programs.js';
// @ts-expect-error — a plain ES module without types (the dashboards' single source)
import { DASHBOARDS, DATASOURCES } from '../dashboards/build.mjs';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const JIRA_TOKEN = testSecret('jira');
const OPENAI_KEY = testSecret('sk-test');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const ns = uniqueNamespace();
let collector: CollectorHandle;
let agent: AgentHandle;
let prometheus: ChildProcess | undefined;
let promUrl = '';
const HOUR = 3_600_000;
const noPrometheus = missingProgram('prometheus', "the Prometheus checks (the pipeline-health dashboard's panels, its template variable, the alert rules)") ?? missingProgram('promtool', 'the alert rule unit tests (promtool test rules)');

/** The index each Elasticsearch datasource reads, from the provisioning file Grafana loads. */
const provisioned = parse(readFileSync(join(REPO_ROOT, 'grafana/provisioning/datasources/stacklens.yaml'), 'utf8')).datasources as any[];
const esIndexOf = (uid: string) => provisioned.find((d) => d.uid === uid)?.jsonData?.index as string;

beforeAll(async () => {
  await jira.start();
  await llm.start();
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  // The shipped rules, reading only this test's namespace.
  for (const f of readdirSync(join(REPO_ROOT, 'rules')).filter((x) => x.endsWith('.yml'))) {
    writeFileSync(join(rulesDir, f), `${readFileSync(join(REPO_ROOT, 'rules', f), 'utf8')}\nnamespace: ${ns}\n`);
  }
  const token = `agent-token-${ns}`;
  mkdirSync(join(dir, 'collector'));
  collector = await startCollector(esUrl, {
    dir: join(dir, 'collector'),
    token,
    rulesDir,
    extra: `api:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\nintegrations:\n  jira:\n    url: ${jira.url}\n    email: oncall@example.com\n    api_token: \${JIRA_API_TOKEN}\n    project: OPS\n  openai:\n    base_url: ${llm.url}\n    api_key: \${OPENAI_API_KEY}\n    timeout: 5s\n`,
    env: { JIRA_API_TOKEN: JIRA_TOKEN, OPENAI_API_KEY: OPENAI_KEY },
  });
  const agentMetrics = await freePort();
  agent = startAgent(
    dir,
    `id: dash-${ns}\nstate_dir: ./state\ncollector:\n  url: ${collector.url}\n  token: ${token}\nbatch:\n  flush_interval: 100ms\nmetrics:\n  listen: 127.0.0.1:${agentMetrics}\ninputs:\n  - paths: ["./logs/pos*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n  - paths: ["./logs/chatbot*.log"]\n    format: chatbot\n    dataset: chatbot\n    namespace: ${ns}\n`,
  );

  // Demo data: a day of POS traffic and errors across stores and kiosks, a week of chat-bot
  // conversations (with one unusually busy hour), and errors now so the rules fire.
  const rand = rng(42);
  const now = Date.now();
  const pos: string[] = [];
  for (let h = 23; h >= 0; h--) {
    for (let i = 0; i < 6; i++) {
      const time = new Date(now - h * HOUR - i * 60_000 - 5 * 60_000);
      const store = `STORE_00${1 + (i % 3)}`;
      pos.push(posOrderLine({ rand, time, store }));
      pos.push(posErrorLine((['missing-price', 'product-not-found', 'inventory-shortage', 'payment-failed'] as const)[(h + i) % 4], { rand, time, store, kiosk: `KIOSK_00${1 + (i % 2)}` }));
    }
  }
  pos.push('this line is not in the POS format'); // → the dead-letter stream
  for (const store of ['STORE_001', 'STORE_002', 'STORE_003']) pos.push(posErrorLine('missing-price', { rand, store, product: 999 }));
  for (let i = 0; i < 3; i++) pos.push(posErrorLine('payment-failed', { rand, store: 'STORE_003' })); // a frequency rule: 3 in 5 min
  writeFileSync(join(dir, 'logs', 'pos.log'), `${pos.join('\n')}\n`);
  const bot: string[] = [];
  for (let m = 7 * 24 * 60; m >= 0; m -= 30) bot.push(...chatbotTurn(rand, new Date(now - m * 60_000 - 60_000)));
  for (let i = 0; i < 60; i++) bot.push(...chatbotTurn(rand, new Date(now - 3 * 24 * HOUR + i * 30_000))); // the busy hour
  for (let i = 0; i < 5; i++) bot.push(...chatbotTurn(rand, new Date(now)));
  writeFileSync(join(dir, 'logs', 'chatbot.log'), `${bot.join('\n')}\n`);
  // And an on-call chat message, as the Slack/Mattermost capture stores them.
  await es.index({ index: 'logs-chat-default', op_type: 'create', id: `dash-${ns}`, refresh: true, document: { '@timestamp': new Date().toISOString(), message: 'checking the kiosk at store 1', data_stream: { type: 'logs', dataset: 'chat', namespace: 'default' }, chat: { platform: 'slack', type: 'message', message_id: ns, channel: { id: 'C1', name: 'oncall' }, user: { id: 'U1', name: 'dana' }, deleted: false } } });

  // Incidents: fired, triaged, ticketed; one acknowledged, one resolved (the time-to fields).
  const incidents = await waitFor('triaged, ticketed incidents', async () => {
    const res = await (await fetch(`${collector.url}/api/incidents?size=100`, { headers: { authorization: `Bearer ${VIEWER}` } })).json();
    const mine = res.incidents.filter((i: any) => i.index.endsWith(ns));
    const critical = mine.filter((i: any) => i.ticket_state === 'created' && i.severity === 'critical');
    return critical.length >= 3 && mine.some((i: any) => i.severity === 'high') ? critical : undefined;
  }, 90_000, 500);
  // Resolve one critical incident and acknowledge another: one critical and the high one stay open.
  const [resolved, acked] = incidents;
  for (const [inc, action] of [[acked, 'ack'], [resolved, 'resolve']]) {
    const res = await fetch(`${collector.url}/api/incidents/${inc.id}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"by":"dana"}' });
    expect(res.status).toBe(200);
  }
  await waitFor('the demo data indexed', async () => {
    await es.indices.refresh({ index: `logs-*-${ns}` });
    const counts = await Promise.all([`logs-pos-${ns}`, `logs-chatbot-${ns}`].map(async (index) => (await es.count({ index })).count));
    return counts[0] >= pos.length - 1 && counts[1] >= bot.length;
  }, 120_000, 1000);

  // Prometheus, with the repository's scrape config pointed at this collector and agent.
  if (noPrometheus) return;
  const promDir = tempDir('stacklens-prometheus-');
  const config = parse(readFileSync(join(REPO_ROOT, 'prometheus/prometheus.yml'), 'utf8'));
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  const targets: Record<string, string> = { 'stacklens-collector': `127.0.0.1:${collector.port}`, 'stacklens-agent': `127.0.0.1:${agentMetrics}` };
  for (const job of config.scrape_configs) job.static_configs = [{ targets: [targets[job.job_name]] }];
  writeFileSync(join(promDir, 'prometheus.yml'), JSON.stringify(config));
  copyFileSync(join(REPO_ROOT, 'prometheus/alerts.yml'), join(promDir, 'alerts.yml'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  let output = '';
  prometheus = spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stderr!.on('data', (d) => (output += d));
  await waitFor(`Prometheus scraping both\n${output}`, async () => {
    const res = await promQuery('up');
    return res.length === 2 && res.every((r: any) => r.value[1] === '1');
  }, 60_000, 500);
  await new Promise((r) => setTimeout(r, 6000)); // a few scrapes, for rate()
}, 300_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await agent?.stop('SIGKILL');
  await collector?.stop('SIGKILL');
  await jira.stop();
  await llm.stop();
});

async function promQuery(expr: string): Promise<any[]> {
  const res = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json();
  if (res.status !== 'success') throw new Error(`${expr}: ${res.error}`);
  return res.data.result;
}

// --- Grafana's requests, rebuilt --------------------------------------------------------
const ALL = '*';
const lucene = (q: string) => (q || '*').replace(/\$(store|kiosk|team)\b/g, ALL);
const promql = (e: string) => e.replaceAll('$__rate_interval', '10s').replaceAll('$__range', '5m').replaceAll('$dataset', '.*');

function timeRange(dashboard: any, panel: any): { from: number; to: number } {
  const now = Date.now();
  const rel = (s: string) => {
    if (s === 'now/d') return new Date(new Date(now).toISOString().slice(0, 10)).getTime();
    const m = /^(?:now-)?(\d+)([mhd])$/.exec(s);
    if (!m) throw new Error(`time "${s}" not understood`);
    return now - Number(m[1]) * { m: 60_000, h: HOUR, d: 24 * HOUR }[m[2] as 'm' | 'h' | 'd'];
  };
  let from = rel(panel.timeFrom ?? dashboard.time.from);
  let to = now;
  if (panel.timeShift) {
    const shift = now - rel(panel.timeShift);
    from -= shift;
    to -= shift;
  }
  return { from, to };
}

function esBody(target: any, range: { from: number; to: number }): any {
  const body: any = {
    size: 0,
    track_total_hits: true,
    query: { bool: { filter: [{ range: { [target.timeField]: { gte: range.from, lte: range.to, format: 'epoch_millis' } } }, { query_string: { query: lucene(target.query), analyze_wildcard: true } }] } },
  };
  const raw = target.metrics.find((m: any) => m.type === 'raw_data');
  if (raw) return { ...body, size: Number(raw.settings.size), sort: [{ [target.timeField]: 'desc' }] };
  const metricAggs: any = {};
  for (const m of target.metrics) {
    if (m.type === 'count') continue;
    metricAggs[m.id] = m.type === 'percentiles' ? { percentiles: { field: m.field, percents: m.settings.percents.map(Number) } } : { [m.type]: { field: m.field } };
  }
  let aggs = metricAggs;
  for (const b of [...target.bucketAggs].reverse()) {
    let agg: any;
    if (b.type === 'date_histogram') {
      const interval = b.settings.interval === 'auto' ? `${Math.max(60, Math.round((range.to - range.from) / 1000 / 100))}s` : b.settings.interval;
      agg = { date_histogram: { field: b.field, fixed_interval: interval, min_doc_count: Number(b.settings.min_doc_count), extended_bounds: { min: range.from, max: range.to }, format: 'epoch_millis' } };
    } else if (b.type === 'terms') {
      // Grafana's "_term" ordering is sent as "_key".
      agg = { terms: { field: b.field, size: Number(b.settings.size), order: { [b.settings.orderBy === '_term' ? '_key' : b.settings.orderBy]: b.settings.order }, min_doc_count: Number(b.settings.min_doc_count) } };
    } else throw new Error(`bucket aggregation ${b.type} not rebuilt by this test`);
    if (Object.keys(aggs).length) agg.aggs = aggs;
    aggs = { [b.id]: agg };
  }
  if (Object.keys(aggs).length) body.aggs = aggs;
  return body;
}

/** Some bucket with documents and, where metrics are asked for, a value. */
function hasData(res: any, target: any): boolean {
  if (target.metrics.some((m: any) => m.type === 'raw_data')) return res.hits.hits.length > 0;
  if (!res.aggregations) return res.hits.total.value > 0;
  const metricIds = target.metrics.filter((m: any) => m.type !== 'count').map((m: any) => m.id);
  const walk = (node: any): boolean => {
    for (const [key, value] of Object.entries<any>(node ?? {})) {
      if (value?.buckets) {
        if (value.buckets.some((b: any) => b.doc_count > 0 && (metricIds.length === 0 || metricIds.every((id: string) => b[id] && (b[id].value ?? Object.values(b[id].values ?? {})[0]) !== null)) ) || value.buckets.some((b: any) => walk(b))) return true;
      } else if (metricIds.includes(key) && (value.value ?? Object.values(value.values ?? {})[0]) !== null && (value.value ?? Object.values(value.values ?? {})[0]) !== undefined) return true;
    }
    return false;
  };
  return walk(res.aggregations);
}

/** Fields a target names: metric and bucket fields, and `field:` terms of its Lucene query. */
function fieldsOf(target: any): string[] {
  const fields = new Set<string>([target.timeField]);
  for (const m of target.metrics) if (m.field) fields.add(m.field);
  for (const b of target.bucketAggs) if (b.field) fields.add(b.field);
  for (const m of String(target.query).matchAll(/(?:^|[\s(])(?:_exists_:)?([A-Za-z@][\w.@]*):/g)) if (m[1] !== '_exists_') fields.add(m[1]);
  for (const m of String(target.query).matchAll(/_exists_:([\w.@]+)/g)) fields.add(m[1]);
  return [...fields];
}

const panelsOf = (d: any) => d.panels.map((p: any) => [d.title, p.title, p] as const);
const allPanels = Object.values<any>(DASHBOARDS).flatMap(panelsOf);

describe('Grafana provisioning', () => {
  it('the committed dashboards are what dashboards/build.mjs makes, and name only provisioned datasources', async () => {
    const check = spawn(process.execPath, [join(REPO_ROOT, 'dashboards/build.mjs'), '--check'], { stdio: 'pipe' });
    let err = '';
    check.stderr.on('data', (d) => (err += d));
    expect(await new Promise((r) => check.on('exit', r)), err).toBe(0);
    const uids = provisioned.map((d) => d.uid).sort();
    expect(uids).toEqual(Object.values<any>(DATASOURCES).map((d) => d.uid).sort());
    const provider = parse(readFileSync(join(REPO_ROOT, 'grafana/provisioning/dashboards/stacklens.yaml'), 'utf8'));
    expect(provider.providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    const seen = new Set<string>();
    for (const file of Object.keys(DASHBOARDS)) {
      const d = JSON.parse(readFileSync(join(REPO_ROOT, 'dashboards', file), 'utf8'));
      expect(seen.has(d.uid), `duplicate uid ${d.uid}`).toBe(false);
      seen.add(d.uid);
      for (const p of d.panels) {
        for (const t of p.targets) expect(uids, `${d.title} / ${p.title}`).toContain(t.datasource.uid);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      }
      for (const v of d.templating.list) expect(uids).toContain(v.datasource.uid);
    }
    expect(seen.size).toBe(4);
  });

  it('every template variable has values', async () => {
    for (const d of Object.values<any>(DASHBOARDS)) {
      for (const v of d.templating.list) {
        if (v.datasource.type === 'prometheus') {
          if (noPrometheus) continue; // said when the file loaded
          const values = await (await fetch(`${promUrl}/api/v1/label/dataset/values`)).json();
          expect(values.data, `${d.title} $${v.name}`).toEqual(expect.arrayContaining(['pos', 'chatbot']));
          continue;
        }
        const q = JSON.parse(v.query);
        const res: any = await es.search({ index: esIndexOf(v.datasource.uid), size: 0, query: { query_string: { query: lucene(q.query ?? '*') } }, aggs: { values: { terms: { field: q.field, size: q.size ?? 500 } } } });
        expect(res.aggregations.values.buckets.length, `${d.title} $${v.name} (${q.field})`).toBeGreaterThan(0);
      }
    }
  });

  it.for(allPanels)('%s / %s: its queries return data and its fields exist', async ([, , panel], ctx) => {
    ctx.skip(noPrometheus !== undefined && panel.targets.some((t: any) => t.datasource.type === 'prometheus'), noPrometheus);
    const dashboard = Object.values<any>(DASHBOARDS).find((d) => d.panels.includes(panel));
    for (const target of panel.targets) {
      if (target.datasource.type === 'prometheus') {
        const result = await promQuery(promql(target.expr));
        expect(result.length, target.expr).toBeGreaterThan(0);
        continue;
      }
      const index = esIndexOf(target.datasource.uid);
      const caps: any = await es.fieldCaps({ index, fields: fieldsOf(target) });
      for (const f of fieldsOf(target)) expect(Object.keys(caps.fields), `${index}: field ${f}`).toContain(f);
      const body = esBody(target, timeRange(dashboard, panel));
      const res = await es.search({ index, ...body });
      expect(hasData(res, target), `${panel.title} [${target.refId}] ${JSON.stringify(body)}`).toBe(true);
    }
  });
});

describe.skipIf(noPrometheus)('Prometheus', () => {
  it('loads the alert rules and evaluates them on the live series', async () => {
    const rules = await (await fetch(`${promUrl}/api/v1/rules`)).json();
    const names = rules.data.groups.flatMap((g: any) => g.rules.map((r: any) => r.name));
    expect(names).toEqual(expect.arrayContaining(['StackLensAgentDown', 'StackLensCollectorDown', 'StackLensAgentLagGrowing', 'StackLensDeadLettersGrowing', 'StackLensBulkFailing', 'StackLensOutboxStuck', 'StackLensTriageFailing']));
    expect(rules.data.groups.flatMap((g: any) => g.rules).every((r: any) => r.health !== 'err')).toBe(true);
  });

  it('promtool test rules passes the alert unit tests', async () => {
    const run = spawn('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: join(REPO_ROOT, 'prometheus'), stdio: 'pipe' });
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (out += d));
    expect(await new Promise((r) => run.on('exit', r)), out).toBe(0);
    expect(out).toContain('SUCCESS');
  });
});

describe('Kibana saved objects', () => {
  const objects = readFileSync(join(REPO_ROOT, 'kibana/stacklens.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const views = objects.filter((o) => o.type === 'index-pattern');

  it('data views for POS, chat-bot, chat, incidents and dead letters, each matching indices with data and a time field', async () => {
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
    expect(views.map((v) => v.attributes.title)).toEqual(expect.arrayContaining(['logs-pos-*', 'logs-chatbot-*', 'logs-chat-*', 'stacklens-incidents']));
    for (const v of views) {
      const caps: any = await es.fieldCaps({ index: v.attributes.title, fields: [v.attributes.timeFieldName] });
      expect(caps.fields[v.attributes.timeFieldName]?.date, `${v.attributes.title}: ${v.attributes.timeFieldName}`).toBeDefined();
      expect((await es.count({ index: v.attributes.title })).count, v.attributes.title).toBeGreaterThan(0);
    }
  });

  it('saved searches point at those data views and use fields that exist', async () => {
    const searches = objects.filter((o) => o.type === 'search');
    expect(searches.length).toBeGreaterThanOrEqual(5);
    for (const s of searches) {
      const ref = s.references.find((r: any) => r.name === 'kibanaSavedObjectMeta.searchSourceJSON.index');
      const view = views.find((v) => v.id === ref?.id);
      expect(view, s.attributes.title).toBeDefined();
      const source = JSON.parse(s.attributes.kibanaSavedObjectMeta.searchSourceJSON);
      const queryFields = [...String(source.query.query).matchAll(/([A-Za-z@][\w.@]*)\s*(?::|>|<)/g)].map((m) => m[1]);
      const fields = [...new Set([...s.attributes.columns, ...queryFields])];
      const caps: any = await es.fieldCaps({ index: view.attributes.title, fields });
      for (const f of fields) expect(Object.keys(caps.fields), `${s.attributes.title}: ${f}`).toContain(f);
    }
  });
});
