// npm run bench -- --only cluster [--cluster-lines 200000]
//
// Scaling out, side by side in one run: one Elasticsearch node vs a three-node cluster
// (`stacklens es start --nodes 3`, replicas 0 and 1), and one vs two collectors. For each:
//  - the `_bulk` ceiling of that cluster (the same documents sent straight with the official
//    client, two requests in flight),
//  - StackLens end to end (file → agent → collector(s) → Elasticsearch) events/s,
//  - write → incident latency p50/p99 (probe lines, 500 lines/s of background),
//  - CPU seconds per component over the end-to-end leg: on two cores, the component whose
//    share is largest is what limits the figure.
// Every node has 512 MiB of heap (the single node too), so the topologies differ only in count;
// the agent keeps 4 batches in flight in every leg, so one vs two collectors differ only in that.
// The one-collector leg runs before and after the two-collector leg (A B A): the JVMs keep
// warming up from leg to leg, and a single ordering would credit that to the second leg.
// Before each leg the earlier legs' data is force-merged and the cluster settles (quiesce).
import { spawn } from 'node:child_process';
import { appendFileSync, createReadStream, createWriteStream, linkSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@elastic/elasticsearch';
import { startElasticsearch, stopElasticsearch, startCluster, stopCluster, clusterStatus, installTemplates, REPO_ROOT } from '@stacklens/elasticsearch';
import { EventBuilder } from '@stacklens/agent';
import { INCIDENTS_INDEX } from '@stacklens/detection';
import { posErrorLine, posTrafficLine, rng } from '@stacklens/demo';
import { backgroundWriter, cpuSeconds, percentile, sleep, waitReady, warmUp } from './lib.mjs';

const SINGLE_PORT = 9700;
const CLUSTER_PORT = 9710;
const HEAP_MB = 512;

/** The input every leg reads: POS lines, 5% errors. */
async function writeInput(file, lines, progress) {
  const out = createWriteStream(file);
  const rand = rng(5);
  let t = Date.now() - lines * 5;
  for (let i = 0; i < lines; i++) {
    if (!out.write(`${posTrafficLine(rand, 0.05, new Date((t += 5)))}\n`)) await new Promise((r) => out.once('drain', r));
    if (i % 50_000 === 0) progress(`writing input: ${i.toLocaleString()} / ${lines.toLocaleString()} lines`);
  }
  await new Promise((r) => out.end(r));
}

/** _bulk bodies of the input's documents for data stream `index` (built as the agent builds them). */
async function bulkBodies(file, index) {
  const builder = new EventBuilder('bench-agent', 'bench-host', { paths: [], format: 'pos', dataset: 'pos', namespace: 'x', max_line_bytes: 1 << 20, close_inactive: 300000, redact: { card_numbers: true, bearer_tokens: true, api_keys: true, passwords: true, emails: false } });
  const bodies = [];
  let chunk = [];
  let offset = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const e = builder.build(line, file, 'bench', offset);
    offset += Buffer.byteLength(line) + 1;
    e.doc.event = { ...e.doc.event, ingested: new Date().toISOString() };
    chunk.push(`{"create":{"_index":"${index}","_id":"${e.id}"}}\n${JSON.stringify(e.doc)}\n`);
    if (chunk.length === 2048) bodies.push(chunk.splice(0).join(''));
  }
  if (chunk.length) bodies.push(chunk.join(''));
  return bodies;
}

async function count(client, index) {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  return (await client.count({ index, ignore_unavailable: true, allow_no_indices: true })).count;
}

/** CPU seconds of several processes (missing ones count 0). */
const cpuOf = (pids) => pids.reduce((s, pid) => s + (pid ? cpuSeconds(pid) : 0), 0);

/**
 * Before each leg: the earlier legs' data merged down (their background merges would otherwise
 * cost the leg CPU it did not cause; this distribution cannot delete data streams) and the
 * cluster green with no shard moving.
 */
async function quiesce(client, progress) {
  progress('quiescing: earlier legs force-merged, waiting for green with no shard moving');
  await client.indices.forcemerge({ index: 'logs-pos-*', max_num_segments: 1, expand_wildcards: 'all' }, { requestTimeout: 600_000 });
  await client.cluster.health({ wait_for_status: 'green', wait_for_no_relocating_shards: true, wait_for_no_initializing_shards: true, timeout: '120s' });
  await sleep(3000);
}

async function ceiling(client, bodies, index, lines) {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const res = await client.bulk({ body: bodies[next++], filter_path: 'errors,items.*.error' });
      if (res.errors) throw new Error(`_bulk had errors: ${JSON.stringify(res.items?.find((i) => i.create?.error))}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - started) / 1000;
  const n = await count(client, index);
  if (n !== lines) throw new Error(`ceiling: expected ${lines} documents in ${index}, found ${n}`);
  return lines / seconds;
}

function startProcs({ dir, urls, replicas, collectors, ns, logGlob, rulesDir, run }) {
  mkdirSync(dir, { recursive: true });
  const token = `bench-cluster-agent-token-${run}`;
  const env = { ...process.env, STACKLENS_LOG_LEVEL: 'warn' };
  const ports = Array.from({ length: collectors }, (_, i) => 19600 + Math.floor(Math.random() * 300) * 2 + i);
  const procs = ports.map((port, i) => {
    const file = join(dir, `collector${i}.yaml`);
    writeFileSync(file, `listen: 127.0.0.1:${port}\nelasticsearch:\n  urls: [${urls.join(', ')}]\n  replicas: ${replicas}\nagent_tokens: ["${token}"]\nrules_dir: ${rulesDir}\ndetection:\n  schedule: 500ms\n`);
    return spawn(process.execPath, [join(REPO_ROOT, 'collector/dist/cli.js'), '--config', file], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  });
  writeFileSync(
    join(dir, 'agent.yaml'),
    `id: bench-cluster-${run}\nstate_dir: ./state\ncollector:\n  urls: [${ports.map((p) => `http://127.0.0.1:${p}`).join(', ')}]\n  token: "${token}"\nbatch:\n  max_in_flight: 4\ninputs:\n  - paths: ["${logGlob}"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`,
  );
  const startAgent = () => spawn(process.execPath, [join(REPO_ROOT, 'agent/dist/cli.js'), '--config', join(dir, 'agent.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = async (children) => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
  };
  return { collectors: procs, ready: Promise.all(ports.map((p) => waitReady(p))), startAgent, stop };
}

/** Legs run so far: each writes data streams of its own (the A B A order repeats a topology). */
let legs = 0;

async function leg({ name, urls, esPids, replicas, collectors, input, lines, probes, work, run, progress }) {
  const client = new Client({ nodes: urls, requestTimeout: 120_000 });
  await quiesce(client, progress);
  await installTemplates(client, { replicas });
  const tag = `${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}${legs++}${run}`;

  progress(`${name}: _bulk ceiling`);
  const ceilIndex = `logs-pos-ceil${tag}`;
  const ceilingRate = await ceiling(client, await bulkBodies(input, ceilIndex), ceilIndex, lines);

  const ns = `cl${tag}`;
  const dir = join(work, tag);
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'probe.yml'), `name: bench-probe\nseverity: low\ndataset: pos\nnamespace: ${ns}\nfilter:\n  error.type: BENCH_PROBE\ntype: any\ngroup_by: [pos.store_id]\n`);
  const p = startProcs({ dir, urls, replicas, collectors, ns, logGlob: join(logs, '*.log'), rulesDir, run });
  await p.ready;
  const index = `logs-pos-${ns}`;
  const before = { es: cpuOf(esPids), collectors: cpuOf(p.collectors.map((c) => c.pid)) };
  // The input, hard-linked in: every leg's agent reads the same bytes.
  linkSync(input, join(logs, 'input.log'));
  const started = performance.now();
  const agent = p.startAgent();
  let indexed = 0;
  while (indexed < lines) {
    await sleep(1000);
    indexed = await count(client, index);
    progress(`${name}: StackLens end to end ${indexed.toLocaleString()} / ${lines.toLocaleString()} (${Math.round(indexed / ((performance.now() - started) / 1000)).toLocaleString()} events/s)`);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = { es: cpuOf(esPids) - before.es, collectors: cpuOf(p.collectors.map((c) => c.pid)) - before.collectors, agent: cpuSeconds(agent.pid) };

  // Write → incident: probe lines (a store each: a new incident each) over 500 lines/s of background.
  const background = backgroundWriter(join(logs, 'background.log'), 500, rng(9), 0.05);
  await sleep(2000);
  const pending = new Map();
  const latencies = [];
  const poller = (async () => {
    while (latencies.length < probes) {
      if (pending.size > 0) {
        // Found by rule and group, the way a user looks (ids depend on the learned message template).
        const res = await client.search({ index: INCIDENTS_INDEX, size: probes, _source: ['group_key'], query: { bool: { filter: [{ term: { rule: 'bench-probe' } }, { terms: { group_key: [...pending.keys()] } }] } } }).catch(() => ({ hits: { hits: [] } }));
        const now = performance.now();
        for (const h of res.hits.hits) if (pending.has(h._source.group_key)) (latencies.push(now - pending.get(h._source.group_key)), pending.delete(h._source.group_key));
        progress(`${name}: write → incident ${latencies.length} / ${probes}`);
      }
      await sleep(10);
    }
  })();
  const rand = rng(13);
  for (let i = 0; i < probes; i++) {
    const store = `PROBE_${tag}_${i}`;
    pending.set(`pos.store_id=${store}`, performance.now());
    appendFileSync(join(logs, 'probes.log'), `${posErrorLine('missing-price', { store, rand }).replace('"MISSING_PRICE"', '"BENCH_PROBE"')}\n`);
    await sleep(200);
  }
  await Promise.race([poller, sleep(60_000)]);
  background.stop();
  await p.stop([agent, ...p.collectors]);
  await client.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = latencies.sort((a, b) => a - b);
  return { name, replicas, collectors, nodes: urls.length, ceilingRate, rate: lines / seconds, seconds, cpu, p50: percentile(sorted, 50), p99: percentile(sorted, 99), detected: sorted.length, probes };
}

export async function clusterBench({ work, progress, lines = 200_000, probes = 50 }) {
  const run = Date.now().toString(36);
  const input = join(work, 'cluster-input.log');
  await writeInput(input, lines, progress);
  const rows = [];
  const warmedUp = [];
  const log = (line) => progress(line);

  progress('starting one node');
  const single = await startElasticsearch({ port: SINGLE_PORT, heapMb: HEAP_MB, log });
  try {
    await installTemplates(new Client({ node: single.url })); // the warm-up stream a data stream like the legs' (no replica on one node)
    const warm = await warmUp(new Client({ node: single.url }), 'single', progress, 300_000);
    warmedUp.push(`one node: ${warm.docs.toLocaleString()} documents (last round ${Math.round(warm.rate).toLocaleString()}/s)`);
    rows.push(await leg({ name: '1 node', urls: [single.url], esPids: [single.pid], replicas: 0, collectors: 1, input, lines, probes, work, run, progress }));
  } finally {
    await stopElasticsearch({ port: SINGLE_PORT });
    rmSync(single.dir, { recursive: true, force: true });
  }

  progress('starting three nodes');
  const cluster = await startCluster({ port: CLUSTER_PORT, nodes: 3, heapMb: HEAP_MB, log });
  try {
    const esPids = (await clusterStatus({ port: CLUSTER_PORT })).nodes.map((n) => n.pid);
    await installTemplates(new Client({ nodes: cluster.urls }));
    const warm = await warmUp(new Client({ nodes: cluster.urls }), 'cluster', progress, 300_000);
    warmedUp.push(`three nodes: ${warm.docs.toLocaleString()} documents (last round ${Math.round(warm.rate).toLocaleString()}/s)`);
    // A B A for the collector comparison (the JVMs keep warming up from leg to leg); replicas 0 last.
    for (const [replicas, collectors] of [[1, 1], [1, 2], [1, 1], [0, 1]]) {
      rows.push(await leg({ name: `3 nodes, replicas ${replicas}, ${collectors} collector${collectors > 1 ? 's' : ''}`, urls: cluster.urls, esPids, replicas, collectors, input, lines, probes, work, run, progress }));
    }
  } finally {
    await stopCluster({ port: CLUSTER_PORT });
    rmSync(cluster.dir, { recursive: true, force: true });
  }
  return { rows, lines, bytes: statSync(input).size, warmedUp };
}

export function clusterReport({ rows, lines, bytes, warmedUp }) {
  const base = rows[0];
  const out = [
    '',
    `Scaling out — ${lines.toLocaleString()} POS lines (${(bytes / 1e6).toFixed(0)} MB) per leg, ${cpus().length} cores for everything (Elasticsearch nodes, collectors, agent); heap 512 MiB per node`,
    `Warm-up until three 20,000-document rounds agree within 10%: ${warmedUp.join('; ')}`,
    '',
    '| topology | `_bulk` ceiling ev/s | StackLens ev/s | StackLens / ceiling | vs 1 node | write → incident p50 / p99 | CPU s: Elasticsearch / collectors / agent | cores busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const busy = (r.cpu.es + r.cpu.collectors + r.cpu.agent) / r.seconds;
    out.push(
      `| ${r.name} | ${Math.round(r.ceilingRate).toLocaleString()} | ${Math.round(r.rate).toLocaleString()} | ${(r.rate / r.ceilingRate).toFixed(2)} | ${(r.rate / base.rate).toFixed(2)} | ${Math.round(r.p50)} / ${Math.round(r.p99)} ms${r.detected < r.probes ? ` (${r.detected}/${r.probes} seen)` : ''} | ${r.cpu.es.toFixed(1)} / ${r.cpu.collectors.toFixed(1)} / ${r.cpu.agent.toFixed(1)} | ${busy.toFixed(2)} |`,
    );
  }
  out.push('', 'Per CPU second (for sizing: events each component handles per core-second in these runs)', '', '| topology | events per collector CPU-s | events per Elasticsearch CPU-s | events per agent CPU-s |', '|---|---:|---:|---:|');
  for (const r of rows) out.push(`| ${r.name} | ${Math.round(lines / r.cpu.collectors).toLocaleString()} | ${Math.round(lines / r.cpu.es).toLocaleString()} | ${Math.round(lines / r.cpu.agent).toLocaleString()} |`);
  out.push('');
  return out.join('\n');
}
