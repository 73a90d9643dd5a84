// What message-template mining costs the collector's ingest, side by side in one run on the
// same requests built from the LogHub dev set's real lines (16,000 events of 8 systems):
// - cpu: the collector's own work per request (outline, checks, documents, mining) without
//   Elasticsearch — the most mining can cost, as a share of the collector's CPU;
// - e2e: a real collector (message_templates.enabled true vs false) indexing into the real
//   Elasticsearch, requests of 500 events posted 4 at a time as agents do: acknowledged
//   events/s (what an operator sees).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { sleep, waitReady } from './lib.mjs';
import { loadDevSet } from './templates-accuracy.mjs';
import { IngestBatch } from '../collector/dist/ingest/ingest-batch.js';
import { outlineBody } from '../collector/dist/ingest/body-outline.js';
import { AgentScope } from '../collector/dist/ingest/agent-scope.js';
import { DataStreamQuota } from '../collector/dist/ingest/data-stream-quota.js';
import { DEFAULT_INGEST_LIMITS } from '../collector/dist/ingest/limits.js';
import { Pacer } from '../collector/dist/ingest/pacer.js';
import { TemplateCatalog } from '../detection/dist/template-catalog.js';

const EVENTS_PER_REQUEST = 500;

/** A store that keeps nothing: the catalog counts and writes as the collector's does, at no I/O cost. */
const NULL_STORE = { changedSince: async () => ({ templates: [], newest: undefined }), write: async () => [] };

function requests(keep = () => true) {
  const out = [];
  let events = [];
  let n = 0;
  for (const sys of loadDevSet()) {
    for (const [i, content] of sys.contents.entries()) {
      if (!keep(i)) continue;
      events.push({ id: `e${n++}`, dataset: sys.name.toLowerCase(), namespace: 'default', doc: { '@timestamp': '2024-11-16T10:30:00.000Z', message: content, log: { level: 'info' } } });
      if (events.length === EVENTS_PER_REQUEST) {
        out.push(Buffer.from(JSON.stringify({ agent: { id: 'bench-1' }, events })));
        events = [];
      }
    }
  }
  if (events.length) out.push(Buffer.from(JSON.stringify({ agent: { id: 'bench-1' }, events })));
  return { bodies: out, events: n };
}

async function run(bodies, catalog) {
  const quota = new DataStreamQuota({ indices: { resolveIndex: async () => ({ data_streams: [] }) } });
  const log = { warn() {}, info() {}, debug() {}, child() { return log; } };
  const principal = { kind: 'agent', name: 'bench', agents: ['*'], datasets: ['*'], maxDataStreams: 1000, idNamespace: 'agent_tokens' };
  const started = process.hrtime.bigint();
  let docs = 0;
  for (const body of bodies) {
    const pacer = new Pacer();
    const batch = new IngestBatch(body, await outlineBody(body, { maxEvents: 1_000_000, pacer }), new AgentScope(principal, 'bench-1', quota, () => log), DEFAULT_INGEST_LIMITS, pacer, catalog);
    for await (const chunk of batch.documents()) docs += chunk.length;
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, docs };
}

export async function templatesIngest({ rounds = 5, progress = () => {} } = {}) {
  const { bodies, events } = requests();
  const with_ = [];
  const without = [];
  for (let r = 0; r < rounds; r++) {
    progress(`ingest round ${r + 1}/${rounds}`);
    // Alternated in one process, each round with fresh miners (the first sighting of every template included).
    without.push(events / (await run(bodies, TemplateCatalog.disabled())).seconds);
    with_.push(events / (await run(bodies, new TemplateCatalog(NULL_STORE))).seconds);
  }
  progress('');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { events, withMining: median(with_), withoutMining: median(without), ratio: median(with_) / median(without) };
}

const TOKEN = 'templates-bench-agent-token';

/** Post every body to a collector, `concurrency` requests at a time; acknowledged events per second. */
async function postAll(port, bodies, concurrency = 4) {
  let next = 0;
  let acked = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
        const answer = await res.json().catch(() => ({}));
        if (res.status === 200) {
          acked += (answer.indexed ?? 0) + (answer.duplicates ?? 0);
          break;
        }
        if (res.status !== 503 && res.status !== 429) throw new Error(`collector answered ${res.status}: ${JSON.stringify(answer).slice(0, 200)}`);
        await sleep(200);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked / ((performance.now() - started) / 1000);
}

/**
 * The requests again with a namespace per mode and ids of their own (nothing is a duplicate of
 * an earlier pass or run). One namespace per mode, not per pass: data streams this Elasticsearch
 * build cannot delete (no data stream API), and a namespace per pass left 80 of them per run on
 * the cluster it was given, until it reached its 1,000-shard limit and everything else failed.
 */
function renamed(bodies, ns, idPrefix) {
  return bodies.map((b) => Buffer.from(b.toString('utf8').replaceAll('"namespace":"default"', `"namespace":"${ns}"`).replaceAll('"id":"e', `"id":"${idPrefix}e`)));
}

/**
 * Each collector is measured as it runs in production, warm: before its timed requests it is sent
 * the other half of the dev set (even lines of each system, untimed; then the odd lines are
 * timed), so its code is compiled and most templates are known — a fresh process's first
 * seconds (JIT warm-up, every template's first sighting) are not what an operator's collector
 * spends its days doing. The timed messages are new to it all the same (odd lines ≠ even ones).
 */
export async function templatesIngestE2e({ esUrl, work, progress = () => {}, passes = 3 }) {
  const warmUp = requests((i) => i % 2 === 0).bodies;
  const { bodies, events } = requests((i) => i % 2 === 1);
  const dir = join(work, 'templates-ingest');
  mkdirSync(dir, { recursive: true });
  const rates = { true: [], false: [] };
  for (let pass = 0; pass < passes; pass++) {
    for (const enabled of [false, true]) {
      progress(`e2e pass ${pass + 1}/${passes}, mining ${enabled ? 'on' : 'off'}`);
      const port = 18300 + Math.floor(Math.random() * 500);
      const config = join(dir, `collector-${enabled}.yaml`);
      writeFileSync(config, `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["${TOKEN}"]\ndetection:\n  enabled: false\nmessage_templates:\n  enabled: ${enabled}\n`);
      const collector = spawn(process.execPath, [join(REPO_ROOT, 'collector/dist/cli.js'), '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STACKLENS_LOG_LEVEL: 'error' } });
      try {
        await waitReady(port);
        const ns = `templatesmining${enabled ? 'on' : 'off'}`;
        const run = `${Date.now().toString(36)}-${pass}-`;
        await postAll(port, renamed(warmUp, ns, `${run}w`));
        rates[enabled].push(await postAll(port, renamed(bodies, ns, run)));
      } finally {
        collector.kill('SIGTERM');
        await new Promise((res) => collector.once('exit', res));
      }
    }
  }
  progress('');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { events, withMining: median(rates.true), withoutMining: median(rates.false), ratio: median(rates.true) / median(rates.false) };
}

/**
 * Hostile input: a flood of distinct messages of one length (8 random words each), every one
 * a new template until the dataset's cap, beside the dev set's real messages: µs per message.
 */
export function templatesFlood({ n = 20_000 } = {}) {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const word = () => Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join('');
  const flood = Array.from({ length: n }, () => Array.from({ length: 8 }, word).join(' '));
  const real = loadDevSet().flatMap((s) => s.contents);
  const time = (msgs, dataset) => {
    const c = new TemplateCatalog(undefined);
    const started = performance.now();
    for (const m of msgs) c.assignNow(dataset, m);
    return ((performance.now() - started) * 1000) / msgs.length;
  };
  return { flood: time(flood, 'flood'), real: time(real, 'real'), n };
}

export function templatesIngestReport(cpu, e2e, flood) {
  const line = (name, r) => `| ${name} | ${Math.round(r.withMining).toLocaleString('en')} | ${Math.round(r.withoutMining).toLocaleString('en')} | ${r.ratio.toFixed(2)} |`;
  return [
    '',
    `Collector ingest with and without message-template mining (${cpu.events.toLocaleString('en')} real events from the LogHub dev set, medians)`,
    '',
    '| measure | events/s with mining | without | ratio |',
    '|---|---:|---:|---:|',
    line('collector CPU only (outline, checks, documents, mining; no Elasticsearch)', cpu),
    ...(e2e ? [line('collector → Elasticsearch, acknowledged (500-event requests, 4 at a time)', e2e)] : []),
    ...(flood ? ['', `Flood of ${flood.n.toLocaleString('en')} distinct 8-word messages (each a new template until the 10,000 cap): ${flood.flood.toFixed(1)} µs per message, beside ${flood.real.toFixed(1)} µs for the dev set's real messages (ratio ${(flood.flood / flood.real).toFixed(1)})`] : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(templatesIngestReport(await templatesIngest({ progress: (m) => process.stderr.write(`\r\x1b[K${m}`) }), undefined, templatesFlood()));
}
