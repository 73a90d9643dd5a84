#!/usr/bin/env node
// npm run bench [-- --lines 1000000]
//
// End-to-end throughput of StackLens (file → agent → collector → Elasticsearch) beside its
// ceiling in the same run: the same documents sent straight to _bulk of the same
// Elasticsearch with the official client. Prints both, the ratio, and the agent's and
// collector's peak RSS. Uses $STACKLENS_ES_URL, or a throw-away embedded Elasticsearch.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { Client } from '@elastic/elasticsearch';
import { startElasticsearch, stopElasticsearch, installTemplates, REPO_ROOT } from '@stacklens/elasticsearch';
import { posTrafficLine, rng } from '@stacklens/demo';
import { EventBuilder } from '@stacklens/agent';

const { values } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, 'cluster-lines': { type: 'string', default: '200000' }, 'agent-mb': { type: 'string', default: '1000' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const ONLY = values.only;
if (ONLY && !['e2e', 'agent', 'detection', 'tickets', 'redact', 'fuzz', 'hostile', 'logmask', 'templates', 'cluster'].includes(ONLY)) {
  console.error(`--only must be e2e, agent, detection, tickets, redact, fuzz, hostile, logmask, templates or cluster, got "${ONLY}"`);
  process.exit(2);
}
if (values.help) {
  console.log(`Usage: npm run bench [-- --lines N] [--agent-mb MB] [--only e2e|agent|detection|tickets|redact|fuzz|hostile|logmask|templates|cluster]

  e2e    file → agent → collector → Elasticsearch on N POS lines (default 1,000,000), beside
         the ceiling (the same documents sent straight to _bulk with the official client)
         and Debian's rsyslog (imfile → omelasticsearch) shipping the same file
  agent  the agent alone (a stand-in collector acks at once and discards) on MB of POS lines
         (default 1000), in one file and in ten files
  detection  line → incident latency (p50/p99 over 200 incidents under 2,000 lines/s of
         background) and collector CPU with 0 vs 100 rules
  tickets  POS line → Jira ticket latency through triage (an LLM answering after 1 s) and
         Jira (local protocol servers), p50/p99
  redact the agent's card redaction before (Luhn only) and after issue #12 (card shapes and
         issuer ranges), side by side: ns per line on the LogHub dev set and POS lines
  hostile  the collector under 2,000 valid events/s, alone and while hostile requests (a
         1M-event body, a 10k-deep event, a 15 MiB message) arrive every second: valid
         throughput ratio, /healthz p50/p99, peak RSS, nothing lost
  logmask  the logger with URL-credential masking (issue #14) beside the same logger without
         it: ns per line and the ratio, for lines with no URL, a URL, and credentials
  templates  message-template grouping on the LogHub dev set (per system: GA, F1, groups /
         true templates) for the miner and the old regex templating, side by side; the
         miner's messages/s on one core; the collector's ingest with and without mining
         (CPU only, and into Elasticsearch)
  cluster  scaling out: one Elasticsearch node vs three (stacklens es start --nodes 3) with
         replicas 0 and 1, and one vs two collectors; per topology the _bulk ceiling, StackLens
         end-to-end events/s, write → incident p50/p99 and CPU seconds per component, on
         --cluster-lines POS lines (default 200,000)
  fuzz   the property tests (*fuzz*.test.ts) with 50,000 cases each and a seed from the
         clock (printed; STACKLENS_FUZZ_SEED=<seed> reproduces a failure)`);
  process.exit(0);
}
if (ONLY === 'fuzz') {
  const seed = process.env.STACKLENS_FUZZ_SEED ?? String(Date.now() % 2 ** 31);
  console.log(`fuzzing with seed ${seed}, 50,000 cases per property`);
  const { status } = (await import('node:child_process')).spawnSync('npx', ['vitest', 'run', 'fuzz'], {
    stdio: 'inherit',
    env: { ...process.env, STACKLENS_FUZZ_SEED: seed, STACKLENS_FUZZ_RUNS: process.env.STACKLENS_FUZZ_RUNS ?? '50000' },
  });
  process.exit(status ?? 1);
}
if (ONLY === 'logmask') {
  const { status } = (await import('node:child_process')).spawnSync(process.execPath, [new URL('./log-mask.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  process.exit(status ?? 1);
}
if (ONLY === 'redact') {
  console.log(await (await import('./redact.mjs')).redactBench({ progress: (msg) => process.stderr.write(`\r\x1b[K${msg}`) }));
  process.exit(0);
}
const LINES = Number(values.lines);
const work = mkdtempSync(join(tmpdir(), 'stacklens-bench-'));
const progress = (msg) => process.stderr.write(`\r\x1b[K${msg}`);

if (ONLY === 'cluster') {
  const { clusterBench, clusterReport } = await import('./cluster.mjs');
  const result = await clusterBench({ work, progress, lines: Number(values['cluster-lines']) });
  progress('');
  console.log(clusterReport(result));
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

if (!ONLY || ONLY === 'agent') {
  const { writePosFiles, runAgentAlone, dirBytes, packagedAgent, wcFloor, stageProfile, packagedNodeFlags } = await import('./agent-alone.mjs');
  progress('building the agent package (npm run package:agent)');
  const launcher = packagedAgent(join(work, 'package'));
  const rows = [];
  let stages;
  const STALL_MS = 30_000;
  for (const files of [1, 10]) {
    const dir = join(work, `agent-${files}`);
    const lines = await writePosFiles(dir, Number(values['agent-mb']), files, progress);
    const bytes = dirBytes(dir, files);
    const floorSeconds = wcFloor(dir, files);
    const r = await runAgentAlone(dir, lines, progress, { launcher });
    rows.push({ files, lines, bytes, floorSeconds, ...r });
    if (files === 10) {
      // The same files again, the collector holding every answer for the first 30 s: memory must stay bounded.
      const stalled = await runAgentAlone(dir, lines, progress, { launcher, stallMs: STALL_MS });
      rows.push({ files, lines, bytes, floorSeconds, ...stalled, stalled: true });
    }
    if (files === 1) {
      progress('per-stage profile');
      stages = { perLine: (r.cpuSeconds * 1e9) / lines, list: stageProfile(join(dir, 'logs', 'pos-0.log')) };
    }
    rmSync(dir, { recursive: true, force: true });
  }
  progress('');
  console.log(`\nAgent alone (the packaged agent, Node flags "${packagedNodeFlags().join(' ')}"; a stand-in collector acks at once and discards), ${cpus().length} cores\n`);
  console.log('| files | MB | agent MB/s | `wc -l` MB/s (floor) | agent / floor | lines/s | CPU s per GB | peak RSS | of it private (peak anonymous) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`;
  for (const r of rows) {
    if (r.stalled) {
      console.log(`| ${r.files}, collector stalled ${STALL_MS / 1000} s | ${(r.bytes / 1e6).toFixed(0)} | — | — | — | — | — | ${mib(r.peakRss)} (during the stall: ${mib(r.peakDuringStall)}) | ${mib(r.peakAnon)} |`);
      continue;
    }
    const mbps = r.bytes / 1e6 / r.seconds;
    const floor = r.bytes / 1e6 / r.floorSeconds;
    console.log(`| ${r.files} | ${(r.bytes / 1e6).toFixed(0)} | ${mbps.toFixed(1)} | ${floor.toFixed(0)} | ${(mbps / floor).toFixed(4)} | ${Math.round(r.lines / r.seconds).toLocaleString()} | ${(r.cpuSeconds / (r.bytes / 1e9)).toFixed(1)} | ${mib(r.peakRss)} | ${mib(r.peakAnon)} |`);
  }
  console.log('\nPeak RSS counts the pages of the node binary the agent has touched (file-backed, shared with every Node.js process, reclaimable: ~35–50 MiB); the private part is what the agent\'s configuration bounds.');
  const staged = stages.list.reduce((s, x) => s + x.ns, 0);
  console.log(`\nWhere the CPU goes, per line (one file; each stage run alone on the same lines in the bench process; the agent spent ${(stages.perLine / 1000).toFixed(1)} µs CPU per line in all)\n`);
  console.log('| stage | µs CPU per line | share of the agent\'s |');
  console.log('|---|---:|---:|');
  for (const s of [...stages.list, { stage: 'the rest (harvester, batching, HTTP, event loop, GC)', ns: Math.max(0, stages.perLine - staged) }]) {
    console.log(`| ${s.stage} | ${(s.ns / 1000).toFixed(2)} | ${((100 * s.ns) / stages.perLine).toFixed(0)}% |`);
  }
  if (ONLY === 'agent') {
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }
}
const { sleep, waitReady, warmUp } = await import('./lib.mjs');

// 1. Elasticsearch ------------------------------------------------------------------------
const BENCH_PORT = 9260;
let esUrl = process.env.STACKLENS_ES_URL;
let ownEs = false;
if (!esUrl) {
  const es = await startElasticsearch({ port: BENCH_PORT });
  esUrl = es.url;
  ownEs = !es.reused;
}
const client = new Client({ node: esUrl, requestTimeout: 120_000 });
await installTemplates(client);

const run = Date.now().toString(36);

async function finish() {
  await client.close();
  if (ownEs) {
    await stopElasticsearch({ port: BENCH_PORT });
    rmSync(join(REPO_ROOT, '.stacklens', 'es', String(BENCH_PORT)), { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}

if (ONLY === 'templates') {
  const { templatesAccuracy, templatesAccuracyReport } = await import('./templates-accuracy.mjs');
  const { templatesIngest, templatesIngestE2e, templatesFlood, templatesIngestReport } = await import('./templates-ingest.mjs');
  console.log(templatesAccuracyReport(await templatesAccuracy({ progress })));
  const cpu = await templatesIngest({ progress });
  const e2e = await templatesIngestE2e({ esUrl, work, progress });
  console.log(templatesIngestReport(cpu, e2e, templatesFlood()));
  await finish();
  process.exit(0);
}

async function detectionBench() {
  const { detectionLatency, ruleCost, detectionReport } = await import('./detection.mjs');
  const latency = await detectionLatency({ esUrl, client, work, progress, run });
  progress('');
  const cost = await ruleCost({ esUrl, client, work, progress, run });
  progress('');
  console.log(detectionReport(latency, cost));
}

async function ticketBench() {
  const { ticketLatency, ticketReport } = await import('./tickets.mjs');
  const r = await ticketLatency({ esUrl, work, progress, run });
  progress('');
  console.log(ticketReport(r));
}

if (ONLY === 'hostile') {
  const { hostileBench, hostileReport } = await import('./hostile.mjs');
  const rows = await hostileBench({ esUrl, client, work, progress });
  progress('');
  console.log(hostileReport(rows));
  await finish();
  process.exit(0);
}

if (ONLY === 'detection' || ONLY === 'tickets') {
  if (ONLY === 'detection') await detectionBench();
  else await ticketBench();
  await finish();
  process.exit(0);
}

// 2. The input: LINES POS lines (orders and 5% errors) ------------------------------------
const logFile = join(work, 'logs', 'pos.log');
await import('node:fs').then((fs) => fs.mkdirSync(join(work, 'logs')));
{
  const out = createWriteStream(logFile);
  const rand = rng(1);
  let t = Date.parse('2024-11-16T00:00:00Z');
  for (let i = 0; i < LINES; i++) {
    if (!out.write(`${posTrafficLine(rand, 0.05, new Date((t += 50)))}\n`)) await new Promise((r) => out.once('drain', r));
    if (i % 50_000 === 0) progress(`writing input: ${i.toLocaleString()} / ${LINES.toLocaleString()} lines`);
  }
  await new Promise((r) => out.end(r));
}
const fileBytes = statSync(logFile).size;
progress(`input: ${LINES.toLocaleString()} lines, ${(fileBytes / 1e6).toFixed(0)} MB\n`);

async function count(index) {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  return (await client.count({ index, ignore_unavailable: true, allow_no_indices: true })).count;
}

// Warm-up (untimed, see warmUp).
await warmUp(client, `warmup${run}`, progress);
progress('warm-up done\n');

// 3. Ceiling: the same documents, prepared in advance, straight to _bulk -----------------
const directNs = `benchdirect${run}`;
const bulkFiles = [];
{
  const builder = new EventBuilder('bench-agent', 'bench-host', { paths: [], format: 'pos', dataset: 'pos', namespace: directNs, max_line_bytes: 1 << 20, close_inactive: 300000, redact: { card_numbers: true, bearer_tokens: true, api_keys: true, passwords: true, emails: false } });
  const rl = createInterface({ input: createReadStream(logFile), crlfDelay: Infinity });
  let offset = 0;
  let chunk = [];
  let n = 0;
  const flush = () => {
    const f = join(work, `bulk-${bulkFiles.length}.ndjson`);
    writeFileSync(f, chunk.join(''));
    bulkFiles.push(f);
    chunk = [];
  };
  for await (const line of rl) {
    const e = builder.build(line, logFile, 'bench', offset);
    offset += Buffer.byteLength(line) + 1;
    e.doc.event = { ...e.doc.event, ingested: new Date().toISOString() };
    chunk.push(`{"create":{"_index":"logs-pos-${directNs}","_id":"${e.id}"}}\n${JSON.stringify(e.doc)}\n`);
    if (chunk.length === 2048) flush();
    if (++n % 100_000 === 0) progress(`preparing direct _bulk bodies: ${n.toLocaleString()}`);
  }
  if (chunk.length) flush();
}
progress('ceiling: official client → _bulk …');
let directSeconds;
{
  const started = process.hrtime.bigint();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < bulkFiles.length) {
      const body = readFileSync(bulkFiles[next++], 'utf8');
      const res = await client.bulk({ body, filter_path: 'errors,items.*.error' });
      if (res.errors) throw new Error(`direct _bulk had errors: ${JSON.stringify(res.items?.find((i) => i.create?.error))}`);
      done += 2048;
      progress(`ceiling: official client → _bulk: ${Math.min(done, LINES).toLocaleString()} / ${LINES.toLocaleString()}`);
    }
  };
  await Promise.all([worker(), worker()]);
  directSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const c = await count(`logs-pos-${directNs}`);
  if (c !== LINES) throw new Error(`direct: expected ${LINES} documents, found ${c}`);
}
for (const f of bulkFiles) rmSync(f);
progress(`ceiling done in ${directSeconds.toFixed(1)} s\n`);

// 4. StackLens end to end -----------------------------------------------------------------
const ns = `bench${run}`;
const port = 18080 + Math.floor(Math.random() * 1000);
const token = `bench-agent-token-${run}`;
// No rules in this leg: it measures the pipeline (rule cost is measured by the detection bench).
await import('node:fs').then((fs) => fs.mkdirSync(join(work, 'no-rules')));
writeFileSync(join(work, 'collector.yaml'), `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["${token}"]\nrules_dir: ./no-rules\n`);
writeFileSync(
  join(work, 'agent.yaml'),
  `id: bench-agent\nstate_dir: ./state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: "${token}"\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`,
);
const env = { ...process.env, STACKLENS_LOG_LEVEL: 'warn' };
const start = (script, config) => {
  const child = spawn(process.execPath, [join(REPO_ROOT, script), '--config', join(work, config)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return child;
};
/** Peak resident set (VmHWM) and CPU seconds of a process, from /proc. */
function usage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = 100;
  return { peakRss: hwm, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / ticks };
}
const collector = start('collector/dist/cli.js', 'collector.yaml');
await waitReady(port);
const started = process.hrtime.bigint();
const agent = start('agent/dist/cli.js', 'agent.yaml');
let indexed = 0;
while (indexed < LINES) {
  await sleep(1000);
  indexed = await count(`logs-pos-${ns}`);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  progress(`StackLens end to end: ${indexed.toLocaleString()} / ${LINES.toLocaleString()} (${Math.round(indexed / s).toLocaleString()} events/s)`);
}
const e2eSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const agentUsage = usage(agent.pid);
const collectorUsage = usage(collector.pid);
agent.kill('SIGTERM');
collector.kill('SIGTERM');
await Promise.all([agent, collector].map((c) => new Promise((r) => c.once('exit', r))));
progress('');

// 5. rsyslog (imfile → omelasticsearch), same file, same Elasticsearch ----------------------
const { rsyslogAvailable, runRsyslog } = await import('./rsyslog.mjs');
let rsyslog;
const rsyslogVersion = rsyslogAvailable();
if (rsyslogVersion) {
  rsyslog = await runRsyslog({ esUrl, logFile, lines: LINES, work, index: `logs-rsyslog-${run}`, count, progress });
  progress('');
} else {
  console.log('rsyslog not installed (apt-get install rsyslog rsyslog-elasticsearch): skipping its leg');
}

// 6. Report ----------------------------------------------------------------------------------
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const row = (name, seconds) => `| ${name.padEnd(44)} | ${Math.round(LINES / seconds).toLocaleString().padStart(10)} | ${(fileBytes / 1e6 / seconds).toFixed(1).padStart(6)} | ${seconds.toFixed(1).padStart(7)} |`;
const report = [
  '',
  `StackLens benchmark — ${LINES.toLocaleString()} POS lines (${(fileBytes / 1e6).toFixed(0)} MB), ${cpus().length} cores, Elasticsearch ${esUrl}`,
  '',
  `| ${'pipeline'.padEnd(44)} | ${'events/s'.padStart(10)} | ${'MB/s'.padStart(6)} | ${'seconds'.padStart(7)} |`,
  `|${'-'.repeat(46)}|${'-'.repeat(12)}|${'-'.repeat(8)}|${'-'.repeat(9)}|`,
  row('ceiling: official client → _bulk (same docs)', directSeconds),
  row('StackLens: file → agent → collector → ES', e2eSeconds),
  ...(rsyslog ? [row('rsyslog: imfile → omelasticsearch (raw lines)', rsyslog.seconds)] : []),
  '',
  `ratio StackLens / ceiling: ${(directSeconds / e2eSeconds).toFixed(2)}`,
  ...(rsyslog ? [`ratio StackLens / rsyslog: ${(rsyslog.seconds / e2eSeconds).toFixed(2)}   (${rsyslogVersion.trim()}: peak RSS ${mb(rsyslog.peakRss)}, CPU ${rsyslog.cpuSeconds.toFixed(1)} s)`] : []),
  `agent:     peak RSS ${mb(agentUsage.peakRss)}, CPU ${agentUsage.cpuSeconds.toFixed(1)} s`,
  `collector: peak RSS ${mb(collectorUsage.peakRss)}, CPU ${collectorUsage.cpuSeconds.toFixed(1)} s`,
  '',
];
console.log(report.join('\n'));

if (!ONLY) {
  await detectionBench();
  await ticketBench();
}
await finish();
