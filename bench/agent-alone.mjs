// The agent alone: a stand-in collector acknowledges every batch at once and discards it,
// so the agent's own cost (tail, parse, redact, batch, compress, ship) is what is measured.
// The agent runs as operators run it: the package (npm run package:agent) unpacked, started by
// its launcher with the launcher's Node flags. Beside it: `wc -l` on the same files (the floor
// of reading them) and a per-stage profile of the same lines in this process.
import { execFileSync, spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import { createWriteStream, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { posTrafficLine, rng } from '@stacklens/demo';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { EventBuilder, PARSERS } from '@stacklens/agent';
import { REDACT_DEFAULTS } from '@stacklens/common';

/** Build the agent's package into dir and unpack it; returns its launcher (bin/stacklens-agent). */
export function packagedAgent(dir) {
  mkdirSync(dir, { recursive: true });
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/package-agent.mjs'), '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tar.gz'));
  execFileSync('tar', ['xzf', join(dir, tarball), '-C', dir]);
  return join(dir, tarball.replace(/-linux-x64\.tar\.gz$/, ''), 'bin', 'stacklens-agent');
}

/** `wc -l` over the files (page cache warm, as for the agent): MB/s, the floor of reading them. */
export function wcFloor(dir, files) {
  const paths = Array.from({ length: files }, (_, f) => join(dir, 'logs', `pos-${f}.log`));
  execFileSync('wc', ['-l', ...paths], { stdio: 'ignore' }); // warm
  const started = process.hrtime.bigint();
  execFileSync('wc', ['-l', ...paths], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * CPU per line of each stage of the agent's hot path, run alone over the file's first lines
 * in this process: read and split, parse, redact (the pre-checks, and masking where they hit),
 * build the event text, compress. What the agent spends beyond their sum is the rest
 * (harvester, batching, HTTP, event loop, GC of the whole).
 */
export function stageProfile(file, sampleLines = 20_000, rounds = 10) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const input = { paths: [], format: 'pos', dataset: 'pos', namespace: 'default', max_line_bytes: 1 << 20, close_inactive: 300000, redact: REDACT_DEFAULTS };
  // CPU per line of fn over the sample, warmed once, then `rounds` times; fn(keep) returns the
  // results only when keep is true (an untimed last call, for the next stage): timed rounds
  // drop each result at once, as the agent does — 20,000 results held would cost the old
  // generation's GC, which the agent does not pay (it measured parse at 3× its cost).
  const time = (fn) => {
    fn(false);
    const t = process.cpuUsage();
    for (let k = 0; k < rounds; k++) fn(false);
    const d = process.cpuUsage(t);
    return { ns: ((d.user + d.system) * 1000) / (rounds * sampleLines), r: fn(true) };
  };
  // Each item of `items` through f; the results when keep, else only a checksum.
  const each = (items, f) => (keep) => {
    if (keep) return items.map(f);
    let sink = 0;
    for (let i = 0; i < items.length; i++) sink += f(items[i], i) === undefined ? 0 : 1;
    return sink;
  };
  const split = time((keep) => {
    const out = [];
    let sink = 0;
    for (let pos = 0, count = 0; count < sampleLines; count++) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0 || nl >= n) throw new Error(`${file}: fewer than ${sampleLines} lines in its first ${n} bytes`);
      const line = buf.toString('utf8', pos, nl);
      if (keep) out.push(line);
      else sink += line.length;
      pos = nl + 1;
    }
    return keep ? out : sink;
  });
  const lines = split.r;
  const ctx = { timeZone: 'UTC' };
  const parse = time(each(lines, (l) => PARSERS.pos(l, ctx)));
  const noRedaction = new EventBuilder('bench', 'bench-host', { ...input, redact: { card_numbers: false, bearer_tokens: false, api_keys: false, passwords: false, emails: false } });
  const full = new EventBuilder('bench', 'bench-host', input);
  const parsed = parse.r;
  const given = (i) => () => parsed[i];
  const build = time(each(lines, (l, i) => noRedaction.encode(l, '/var/log/pos/pos-0.log', 'bench-identity', i, undefined, given(i))));
  const redactAndBuild = time(each(lines, (l, i) => full.encode(l, '/var/log/pos/pos-0.log', 'bench-identity', i, undefined, given(i))));
  const texts = redactAndBuild.r;
  // Compressed a batch (2,048 events) at a time, as the agent does.
  const compress = time(() => {
    for (let i = 0; i < texts.length; i += 2048) gzipSync(`{"events":[${texts.slice(i, i + 2048).join(',')}]}`, { level: 1 });
  });
  return [
    { stage: 'read and split', ns: split.ns },
    { stage: 'parse (pos)', ns: parse.ns },
    { stage: 'redact (pre-checks, masking)', ns: Math.max(0, redactAndBuild.ns - build.ns) },
    { stage: 'build and serialize the event text', ns: build.ns },
    { stage: 'compress (gzip level 1, on the thread pool)', ns: compress.ns },
  ];
}

/** Write `files` POS log files of about `megabytes` MB in all under dir/logs. */
export async function writePosFiles(dir, megabytes, files, progress) {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const target = (megabytes * 1e6) / files;
  let lines = 0;
  for (let f = 0; f < files; f++) {
    const out = createWriteStream(join(dir, 'logs', `pos-${f}.log`));
    const rand = rng(f + 1);
    let t = Date.parse('2024-11-16T00:00:00Z');
    let written = 0;
    while (written < target) {
      const line = `${posTrafficLine(rand, 0.05, new Date((t += 50)))}\n`;
      written += line.length;
      lines++;
      if (!out.write(line)) await new Promise((r) => out.once('drain', r));
      if (lines % 200_000 === 0) progress(`writing input: ${((f * target + written) / 1e6).toFixed(0)} / ${megabytes} MB`);
    }
    await new Promise((r) => out.end(r));
  }
  return lines;
}

function procUsage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { peakRss, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

/**
 * The Node flags the packaged agent runs with: the NODE_FLAGS line of its launcher
 * (agent/packaging/stacklens-agent.sh), the one place they are set.
 */
export function packagedNodeFlags() {
  const script = readFileSync(join(REPO_ROOT, 'agent/packaging/stacklens-agent.sh'), 'utf8');
  const m = /^NODE_FLAGS="([^"]*)"/m.exec(script);
  if (!m) throw new Error('agent/packaging/stacklens-agent.sh has no NODE_FLAGS="…" line');
  return m[1].split(' ').filter(Boolean);
}

/**
 * Run the agent over dir/logs/*.log against an ack-only collector; returns its figures.
 * `cli`: the agent's entry (default this checkout's agent/dist/cli.js); `nodeFlags`: default
 * the packaged agent's (AGENT_NODE_FLAGS adds to them, e.g. --cpu-prof).
 */
export async function runAgentAlone(dir, expectedLines, progress, { launcher, cli = join(REPO_ROOT, 'agent/dist/cli.js'), nodeFlags = packagedNodeFlags(), stallMs = 0 } = {}) {
  // stallMs: the collector holds every answer until that long after the start (a stalled collector).
  const stallUntil = Date.now() + stallMs;
  const server = createServer((req, res) => {
    req.resume(); // discard
    req.on('end', () => {
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"indexed":0,"duplicates":0,"dead_lettered":0,"errors":[]}');
      };
      const wait = stallUntil - Date.now();
      if (wait > 0) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const metricsPort = port + 1;
  const state = join(dir, `state-${Date.now()}`);
  writeFileSync(
    join(dir, 'agent-alone.yaml'),
    `id: bench\nstate_dir: ${state}\ncollector:\n  url: http://127.0.0.1:${port}\n  token: bench\nmetrics:\n  listen: 127.0.0.1:${metricsPort}\ninputs:\n  - paths: ["${join(dir, 'logs')}/*.log"]\n    format: pos\n    dataset: pos\n`,
  );
  const started = process.hrtime.bigint();
  const extra = process.env.AGENT_NODE_FLAGS ? process.env.AGENT_NODE_FLAGS.split(' ') : [];
  const config = ['--config', join(dir, 'agent-alone.yaml')];
  const env = { ...process.env, STACKLENS_LOG_LEVEL: 'warn', STACKLENS_AGENT_NODE: process.execPath, ...(extra.length ? { STACKLENS_AGENT_NODE_FLAGS: [...packagedNodeFlags(), ...extra].join(' ') } : {}) };
  // The launcher execs node: its pid is the agent's.
  const agent = launcher ? spawn(launcher, config, { stdio: ['ignore', 'inherit', 'inherit'], env }) : spawn(process.execPath, [...nodeFlags, ...extra, cli, ...config], { stdio: ['ignore', 'inherit', 'inherit'], env });
  let acked = 0;
  // The kernel keeps the peak of all resident memory (VmHWM) but not of its private part: sampled.
  let peakAnon = 0;
  let peakDuringStall = 0;
  while (acked < expectedLines) {
    await new Promise((r) => setTimeout(r, 500));
    const parts = rssParts(agent.pid);
    peakAnon = Math.max(peakAnon, parts.anon);
    if (Date.now() < stallUntil) peakDuringStall = Math.max(peakDuringStall, parts.anon + parts.file);
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      acked = Number(/^stacklens_agent_events_acked_total (\d+)/m.exec(text)?.[1] ?? 0);
    } catch {}
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    progress(`agent alone: ${acked.toLocaleString()} / ${expectedLines.toLocaleString()} lines (${Math.round(acked / s).toLocaleString()} lines/s)`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = procUsage(agent.pid);
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  server.close();
  return { seconds, ...usage, peakAnon, peakDuringStall };
}

/**
 * Resident memory by kind: `anon`, the process's own (heap, buffers: what its configuration
 * bounds); `file`, pages of files it maps — the node binary, shared by every Node.js process
 * on the host and reclaimable by the kernel. Bytes; zeros once the process is gone.
 */
export function rssParts(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { anon: 0, file: 0 };
  }
}

export function dirBytes(dir, files) {
  let total = 0;
  for (let f = 0; f < files; f++) total += statSync(join(dir, 'logs', `pos-${f}.log`)).size;
  return total;
}
