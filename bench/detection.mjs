// Detection benchmarks (npm run bench; npm run bench -- --only detection):
//  1. latency: a line appended to a file → its incident document in Elasticsearch, for 200
//     incidents, while a background writer appends 2,000 POS lines/s; the shipped rules plus
//     a probe rule run. Reports p50/p99 (goal: p99 < 2 s).
//  2. rule cost: the same POS file ingested at the highest rate this machine sustains with 0
//     and with 100 rules; collector CPU per 1,000 events and throughput, as ratios.
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { posErrorLine, posTrafficLine, rng } from '@stacklens/demo';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { INCIDENTS_INDEX, incidentFingerprint, incidentId, messageTemplate } from '@stacklens/detection';

import { backgroundWriter, cpuSeconds, percentile, sleep, waitReady } from './lib.mjs';
const SHIPPED = join(REPO_ROOT, 'rules');

/** The shipped rules (and `copies` renamed copies of each), reading only namespace `ns`. */
function writeRules(dir, ns, copies = 1) {
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const file of readdirSync(SHIPPED).filter((f) => f.endsWith('.yml'))) {
    const text = readFileSync(join(SHIPPED, file), 'utf8');
    for (let c = 0; c < copies; c++) {
      const renamed = text.replace(/^name: (.+)$/m, (_m, name) => `name: ${name}${copies > 1 ? `-${c}` : ''}\nnamespace: ${ns}`);
      writeFileSync(join(dir, `${c}-${file}`), renamed);
      n++;
    }
  }
  return n;
}

function startPipeline({ work, name, esUrl, rulesDir, ns, logGlob, port }) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const token = `bench-${name}-agent-token-${process.pid}`;
  writeFileSync(join(dir, 'collector.yaml'), `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["${token}"]\nrules_dir: ${rulesDir}\n`);
  writeFileSync(
    join(dir, 'agent.yaml'),
    `id: bench-${name}\nstate_dir: ./state\ncollector:\n  url: http://127.0.0.1:${port}\n  token: "${token}"\ninputs:\n  - paths: ["${logGlob}"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`,
  );
  const env = { ...process.env, STACKLENS_LOG_LEVEL: 'warn' };
  const collector = spawn(process.execPath, [join(REPO_ROOT, 'collector/dist/cli.js'), '--config', join(dir, 'collector.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const ready = waitReady(port);
  const startAgent = () => spawn(process.execPath, [join(REPO_ROOT, 'agent/dist/cli.js'), '--config', join(dir, 'agent.yaml')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = async (children) => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
  };
  return { collector, ready, startAgent, stop };
}


export async function detectionLatency({ esUrl, client, work, progress, run, probes = 200, backgroundRate = 2000 }) {
  const ns = `benchlat${run}`;
  const rulesDir = join(work, 'latency-rules');
  const shipped = writeRules(rulesDir, ns);
  writeFileSync(join(rulesDir, 'probe.yml'), `name: bench-probe\nseverity: low\ndataset: pos\nnamespace: ${ns}\nfilter:\n  error.type: BENCH_PROBE\ntype: any\ngroup_by: [pos.store_id]\n`);
  const logs = join(work, 'latency-logs');
  mkdirSync(logs, { recursive: true });
  const p = startPipeline({ work, name: 'latency', esUrl, rulesDir, ns, logGlob: join(logs, '*.log'), port: 19100 + Math.floor(Math.random() * 500) });
  await p.ready;
  const agent = p.startAgent();

  // Background: 2,000 POS lines/s (5% errors, which the shipped rules evaluate) in 10 ms slices.
  const rand = rng(3);
  const background = backgroundWriter(join(logs, 'background.log'), backgroundRate, rand, 0.05);
  await sleep(5000); // let the background reach its steady state

  // Probes: one line each, a store of its own, so each opens a new incident.
  const probeFile = join(logs, 'probes.log');
  const template = messageTemplate('Product #999 has no price');
  const pending = new Map();
  const latencies = [];
  const probeIndex = `logs-pos-${ns}`;
  const poller = (async () => {
    while (latencies.length < probes) {
      if (pending.size > 0) {
        const ids = [...pending.keys()];
        const res = await client.mget({ index: INCIDENTS_INDEX, ids, _source: false });
        const now = performance.now();
        for (const d of res.docs) {
          if (d.found) {
            latencies.push(now - pending.get(d._id));
            pending.delete(d._id);
          }
        }
        progress(`detection latency: ${latencies.length} / ${probes} incidents (background ${backgroundRate} lines/s)`);
      }
      await sleep(10);
    }
  })();
  for (let i = 0; i < probes; i++) {
    const store = `PROBE_${run}_${i}`;
    const line = posErrorLine('missing-price', { store, rand }).replace('"MISSING_PRICE"', '"BENCH_PROBE"');
    const id = incidentId(incidentFingerprint('bench-probe', probeIndex, { 'pos.store_id': store }, template));
    pending.set(id, performance.now());
    appendFileSync(probeFile, `${line}\n`);
    await sleep(150);
  }
  await Promise.race([poller, sleep(60_000)]);
  const { written, rate: achievedRate } = background.stop();
  // Did the pipeline keep up with the background? (lines written but not yet indexed)
  await client.indices.refresh({ index: probeIndex });
  const indexed = (await client.count({ index: probeIndex })).count;
  const lag = written + probes - indexed;
  const cpu = cpuSeconds(p.collector.pid);
  await p.stop([agent, p.collector]);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    probes,
    detected: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    rules: shipped + 1,
    backgroundRate,
    achievedRate,
    lag,
    collectorCpu: cpu,
  };
}

export async function ruleCost({ esUrl, client, work, progress, run, lines = 200_000 }) {
  const file = join(work, 'cost-input', 'pos.log');
  mkdirSync(join(work, 'cost-input'), { recursive: true });
  {
    const out = createWriteStream(file);
    const rand = rng(5);
    // Recent timestamps, so the rules' windows see the events as they are indexed.
    const t0 = Date.now();
    for (let i = 0; i < lines; i++) {
      if (!out.write(`${posTrafficLine(rand, 0.05, new Date(t0 + i))}\n`)) await new Promise((r) => out.once('drain', r));
    }
    await new Promise((r) => out.end(r));
  }
  const results = [];
  for (const ruleCount of [0, 100]) {
    const ns = `benchcost${ruleCount}r${run}`;
    const rulesDir = join(work, `cost-rules-${ruleCount}`);
    mkdirSync(rulesDir, { recursive: true });
    if (ruleCount > 0) writeRules(rulesDir, ns, ruleCount / 10);
    const logs = join(work, `cost-logs-${ruleCount}`);
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'pos.log'), readFileSync(file));
    const p = startPipeline({ work, name: `cost${ruleCount}`, esUrl, rulesDir, ns, logGlob: join(logs, '*.log'), port: 19700 + ruleCount + Math.floor(Math.random() * 50) });
    await p.ready;
    const cpu0 = cpuSeconds(p.collector.pid);
    const started = performance.now();
    const agent = p.startAgent();
    let indexed = 0;
    while (indexed < lines) {
      await sleep(500);
      await client.indices.refresh({ index: `logs-pos-${ns}`, ignore_unavailable: true, allow_no_indices: true });
      indexed = (await client.count({ index: `logs-pos-${ns}`, ignore_unavailable: true, allow_no_indices: true })).count;
      progress(`rule cost, ${ruleCount} rules: ${indexed.toLocaleString()} / ${lines.toLocaleString()}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(p.collector.pid) - cpu0;
    await p.stop([agent, p.collector]);
    results.push({ rules: ruleCount, seconds, rate: lines / seconds, collectorCpu: cpu, cpuPerEventUs: (cpu / lines) * 1e6 });
  }
  return { lines, results };
}

export function detectionReport(latency, cost) {
  const out = [''];
  if (latency) {
    out.push(
      `Detection latency — line appended → incident document in Elasticsearch, ${latency.detected}/${latency.probes} incidents, ${latency.rules} rules, background ${latency.backgroundRate} lines/s (written ${latency.achievedRate}/s; ${latency.lag} lines not yet indexed when the last probe was detected)`,
      '',
      '| p50 | p99 | max | goal |',
      '|---:|---:|---:|---|',
      `| ${latency.p50.toFixed(0)} ms | ${latency.p99.toFixed(0)} ms | ${latency.max.toFixed(0)} ms | p99 < 2000 ms: ${latency.p99 < 2000 ? 'met' : 'NOT met'} |`,
    );
  }
  if (cost) {
    const [zero, hundred] = cost.results;
    out.push(
      '',
      `Rule cost — ${cost.lines.toLocaleString()} POS lines at the highest rate this machine sustains`,
      '',
      '| rules | events/s | collector CPU s | collector CPU µs per event |',
      '|---:|---:|---:|---:|',
      ...cost.results.map((r) => `| ${r.rules} | ${Math.round(r.rate).toLocaleString()} | ${r.collectorCpu.toFixed(1)} | ${r.cpuPerEventUs.toFixed(1)} |`),
      '',
      `ratio collector CPU per event, 100 rules / 0 rules: ${(hundred.cpuPerEventUs / zero.cpuPerEventUs).toFixed(2)}; throughput 100 / 0 rules: ${(hundred.rate / zero.rate).toFixed(2)}`,
    );
  }
  return out.join('\n');
}
