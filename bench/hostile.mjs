// The collector under hostile input (#13): 2,000 valid events/s posted as an agent would
// (100-event batches, 20 a second) for `seconds`, once alone and once while hostile requests
// arrive every second — a body of 1,000,000 events, an event nested 10,000 deep beside valid
// ones, and an event carrying a 15 MiB message. Side by side in one run: valid throughput
// (acknowledged events/s) with / without, /healthz p50/p99 (probed every 50 ms), collector
// peak RSS, and whether every valid event is in Elasticsearch exactly once.
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { percentile, sleep, waitReady } from './lib.mjs';

const TOKEN = 'hostile-bench-agent-token';

function peakRss(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

async function post(port, body) {
  const started = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: Buffer.isBuffer(body) ? body : gzipSync(body, { level: 1 }),
    });
    const answer = await res.json().catch(() => ({}));
    return { status: res.status, answer, ms: performance.now() - started };
  } catch (err) {
    return { status: 0, answer: { error: err.message }, ms: performance.now() - started };
  }
}

const validEvent = (ns, seq) => ({
  id: `hostile-${ns}-${seq}`,
  dataset: 'hostile',
  namespace: ns,
  doc: { '@timestamp': new Date().toISOString(), message: `order ${seq} completed`, log: { offset: seq }, pos: { store_id: `STORE_${String(seq % 10).padStart(3, '0')}` } },
});

/** The hostile requests sent every second (built once: the bench must not be slower than what it measures). */
function hostileBodies(ns) {
  const zeros = `{"agent":{"id":"h"},"events":[${'0,'.repeat(999_999)}0]}`;
  const deepDoc = `${'{"a":'.repeat(10_000)}{}${'}'.repeat(10_000)}`;
  const deepBody = `{"agent":{"id":"h"},"events":[${JSON.stringify(validEvent(`${ns}x`, 0))},{"id":"deep-${ns}","dataset":"hostile","namespace":"${ns}","doc":${deepDoc}}]}`;
  const huge = JSON.stringify({ agent: { id: 'h' }, events: [{ id: `huge-${ns}`, dataset: 'hostile', namespace: ns, doc: { '@timestamp': new Date().toISOString(), message: 'x'.repeat(15 * 1024 * 1024) } }] });
  return [zeros, deepBody, huge].map((body) => gzipSync(body, { level: 1 }));
}

async function phase({ port, pid, ns, seconds, hostile, progress }) {
  const bodies = hostile ? hostileBodies(ns) : [];
  let seq = 0;
  let acked = 0;
  const failures = [];
  const health = [];
  const hostileAnswers = new Map();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const inflight = new Set();
  // /healthz every 50 ms
  const prober = (async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`);
      } catch {}
      health.push(performance.now() - t);
      await sleep(Math.max(0, 50 - (performance.now() - t)));
    }
  })();
  // hostile requests once a second, prepared outside the timed loop
  const hostiles = hostile
    ? (async () => {
        for (let s = 0; performance.now() < deadline; s++) {
          const t = performance.now();
          for (const body of bodies) {
            const p = post(port, body).then((r) => {
              const key = `${r.status}`;
              hostileAnswers.set(key, (hostileAnswers.get(key) ?? 0) + 1);
            });
            inflight.add(p);
            p.finally(() => inflight.delete(p));
          }
          await sleep(Math.max(0, 1000 - (performance.now() - t)));
        }
      })()
    : Promise.resolve();
  // 20 batches of 100 valid events a second, catching up after a slow tick
  while (performance.now() < deadline) {
    const due = Math.floor(((performance.now() - started) / 1000) * 20) - seq / 100;
    for (let b = 0; b < due; b++) {
      const events = Array.from({ length: 100 }, () => validEvent(ns, seq++));
      const p = post(port, JSON.stringify({ agent: { id: 'bench' }, events })).then((r) => {
        if (r.status === 200) acked += events.length;
        else failures.push(r.status);
      });
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    progress(`hostile bench (${hostile ? 'with' : 'without'} hostile requests): ${acked.toLocaleString()} / ${seq.toLocaleString()} acked`);
    await sleep(25);
  }
  await Promise.all([prober, hostiles]);
  await Promise.all([...inflight]);
  const elapsed = (performance.now() - started) / 1000;
  health.sort((a, b) => a - b);
  return { sent: seq, acked, failures, eventsPerSecond: acked / elapsed, healthP50: percentile(health, 50), healthP99: percentile(health, 99), healthMax: health.at(-1), rss: peakRss(pid), hostileAnswers: Object.fromEntries(hostileAnswers) };
}

export async function hostileBench({ esUrl, client, work, progress, seconds = 30 }) {
  const dir = join(work, 'hostile');
  mkdirSync(dir, { recursive: true });
  const port = 18800 + Math.floor(Math.random() * 500);
  writeFileSync(join(dir, 'collector.yaml'), `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: ${esUrl}\nagent_tokens: ["${TOKEN}"]\ndetection:\n  enabled: false\n`);
  const rows = [];
  for (const hostile of [false, true]) {
    // A fresh collector per phase, so peak RSS is each phase's own.
    const collector = spawn(process.execPath, [join(REPO_ROOT, 'collector/dist/cli.js'), '--config', join(dir, 'collector.yaml')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, STACKLENS_LOG_LEVEL: 'error' } });
    await waitReady(port);
    const ns = `${hostile ? 'with' : 'without'}${Date.now().toString(36)}`;
    const r = await phase({ port, pid: collector.pid, ns, seconds, hostile, progress });
    collector.kill('SIGTERM');
    await new Promise((res) => collector.once('exit', res));
    await client.indices.refresh({ index: `logs-hostile-${ns}`, ignore_unavailable: true });
    const stored = (await client.count({ index: `logs-hostile-${ns}`, query: { prefix: { message: 'order' } }, ignore_unavailable: true }).catch(() => ({ count: 0 }))).count;
    rows.push({ hostile, ...r, stored });
  }
  return rows;
}

export function hostileReport(rows) {
  const [without, withHostile] = rows;
  const lines = [
    '',
    'Collector under hostile requests (2,000 valid events/s offered; hostile: a 1M-event body, a 10k-deep event, a 15 MiB message, every second)',
    '',
    '| run | valid events/s acked | sent | acked | in Elasticsearch | /healthz p50 | p99 | max | peak RSS | hostile answers |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.hostile ? 'with hostile' : 'alone'} | ${Math.round(r.eventsPerSecond).toLocaleString()} | ${r.sent.toLocaleString()} | ${r.acked.toLocaleString()} | ${r.stored.toLocaleString()} | ${r.healthP50.toFixed(1)} ms | ${r.healthP99.toFixed(1)} ms | ${r.healthMax.toFixed(0)} ms | ${(r.rss / 1048576).toFixed(0)} MiB | ${JSON.stringify(r.hostileAnswers)} |`,
    );
  }
  lines.push('', `valid throughput with / without hostile requests: ${(withHostile.eventsPerSecond / without.eventsPerSecond).toFixed(2)} (goal ≥ 0.90); /healthz p99 with hostile requests ${withHostile.healthP99.toFixed(1)} ms (goal < 100 ms); nothing lost: ${rows.every((r) => r.stored === r.sent) ? 'yes' : 'NO'}`);
  return lines.join('\n');
}
