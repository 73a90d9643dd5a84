// #19 an honest demo, tried as a new user would: the collector's port taken, another
// Elasticsearch already on 9200, a part dying mid-run, and a normal run with its closing lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO, freePort, waitFor } from './helpers.js';

const esUrl = inject('esUrl');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Pids of the processes whose command line contains `text` (from /proc: no procps needed). */
function pidsWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface Demo {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function demo(args: string[], env: Record<string, string | undefined> = {}): Demo {
  const child = spawn(process.execPath, [`${REPO}/cli/dist/cli.js`, 'demo', ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  cleanups.push(() => child.kill('SIGKILL'));
  return { child, out: () => out, err: () => err, exited };
}

describe('stacklens demo', () => {
  it('refuses at once, naming the port, when the collector\'s port is taken', async () => {
    const port = await freePort();
    const holder = createTcpServer().listen(port, '127.0.0.1');
    cleanups.push(() => holder.close());
    const d = demo(['--port', String(port)], { STACKLENS_ES_URL: esUrl });
    expect(await d.exited).toBe(1);
    expect(d.err()).toContain(`port ${port} is already in use`);
    expect(d.out()).not.toContain('demo is running');
  });

  it('with $STACKLENS_ES_URL: says so loudly, prints what to try, counts its own events, and ends saying what still runs', async () => {
    const port = await freePort();
    const d = demo(['--port', String(port), '--duration', '12', '--rate', '40'], { STACKLENS_ES_URL: esUrl });
    await waitFor('the banner', async () => d.out().includes('StackLens demo is running'), 120_000, 200);
    expect(d.err()).toContain(`Using the Elasticsearch at ${esUrl} ($STACKLENS_ES_URL)`);
    for (const hint of ['npx stacklens incidents list', 'npx stacklens tail', 'npx stacklens search', '/metrics', 'Grafana', 'Kibana', `STACKLENS_URL=http://127.0.0.1:${port}`]) expect(d.out()).toContain(hint);
    expect(await d.exited).toBe(0);
    const counts = [...d.out().matchAll(/indexed: pos (\d+)/g)].map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThan(1);
    expect(counts.at(-1)!).toBeGreaterThan(0);
    expect(d.out()).toMatch(/Elasticsearch at .* is yours \(\$STACKLENS_ES_URL\): the demo left it running/);
  });

  it('when the collector dies, says which part and why, stops the rest and exits 1', async () => {
    const port = await freePort();
    const d = demo(['--port', String(port), '--rate', '10'], { STACKLENS_ES_URL: esUrl });
    await waitFor('the banner', async () => d.out().includes('StackLens demo is running'), 120_000, 200);
    const pids = pidsWith(`collector/dist/cli.js --config ${REPO}/.stacklens/demo/collector.yaml`);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    expect(await d.exited).toBe(1);
    expect(d.err()).toMatch(/collector exited \(SIGKILL\); the last lines of .*collector\.log/);
    // The agent was stopped with it.
    expect(pidsWith(`${REPO}/.stacklens/demo/agent.yaml`)).toEqual([]);
  });

  it('with another Elasticsearch on 9200: leaves it alone and starts its own elsewhere', async () => {
    // Something that answers as an Elasticsearch not started by stacklens (9200 must be free here).
    const foreign: Server = createServer((_req, res) => {
      res.setHeader('X-elastic-product', 'Elasticsearch');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'green', cluster_name: 'someone-elses' }));
    });
    const listening = await new Promise<boolean>((resolve) => {
      foreign.once('error', () => resolve(false));
      foreign.listen(9200, '127.0.0.1', () => resolve(true));
    });
    expect(listening, 'port 9200 must be free for this test').toBe(true);
    cleanups.push(() => new Promise((r) => foreign.close(r)));
    let seen = 0;
    foreign.on('request', () => seen++);
    const port = await freePort();
    const d = demo(['--port', String(port), '--duration', '6', '--rate', '20'], { STACKLENS_ES_URL: undefined });
    await waitFor('the banner', async () => d.out().includes('StackLens demo is running'), 240_000, 500);
    expect(d.err()).toMatch(/Port 9200 is held by an Elasticsearch stacklens did not start: the demo leaves it alone and starts its own on (\d+)/);
    const own = Number(/starts its own on (\d+)/.exec(d.err())![1]);
    cleanups.push(() => spawnSync(process.execPath, [`${REPO}/cli/dist/cli.js`, 'es', 'stop', '--port', String(own)]));
    expect(d.out()).toContain(`Elasticsearch   http://127.0.0.1:${own}`);
    expect(await d.exited).toBe(0);
    expect(d.out()).toContain(`Still running: Elasticsearch on http://127.0.0.1:${own}`);
    expect(d.out()).toContain(`Stop it with: npx stacklens es stop --port ${own}`);
    // Only the probe touched the foreign one: no data, no templates, no incidents went there.
    expect(seen).toBeLessThanOrEqual(3);
    const stop = spawnSync(process.execPath, [`${REPO}/cli/dist/cli.js`, 'es', 'stop', '--port', String(own)], { encoding: 'utf8' });
    expect(stop.stdout).toContain(`Elasticsearch on port ${own} stopped`);
  });
});
