// The agent alone: a stand-in collector acknowledges every batch at once and discards it,
// so the agent's own cost (tail, parse, redact, batch, compress, ship) is what is measured.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createWriteStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { posTrafficLine, rng } from '@stacklens/demo';
import { REPO_ROOT } from '@stacklens/elasticsearch';

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
export async function runAgentAlone(dir, expectedLines, progress, { cli = join(REPO_ROOT, 'agent/dist/cli.js'), nodeFlags = packagedNodeFlags() } = {}) {
  const server = createServer((req, res) => {
    req.resume(); // discard
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"indexed":0,"duplicates":0,"dead_lettered":0,"errors":[]}');
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
  const agent = spawn(process.execPath, [...nodeFlags, ...extra, cli, '--config', join(dir, 'agent-alone.yaml')], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, STACKLENS_LOG_LEVEL: 'warn' } });
  let acked = 0;
  while (acked < expectedLines) {
    await new Promise((r) => setTimeout(r, 500));
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
  return { seconds, ...usage };
}

export function dirBytes(dir, files) {
  let total = 0;
  for (let f = 0; f < files; f++) total += statSync(join(dir, 'logs', `pos-${f}.log`)).size;
  return total;
}
