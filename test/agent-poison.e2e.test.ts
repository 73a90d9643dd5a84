// One bad input never stops the agent (#13, agent side), through the real agent CLI: a line
// nested 10,000 levels deep, unreadable files, and a second stop signal.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { REPO, allDocs, count, esClient, freePort, startAgent, tempDir, uniqueNamespace, useSharedCollector, waitFor } from './helpers.js';

const es = esClient(inject('esUrl'));
const shared = useSharedCollector(inject('esUrl'));

const yaml = (id: string, ns: string, format: string, extra = '') =>
  `id: ${id}\nstate_dir: ./state\ncollector:\n  url: ${shared.collector.url}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  flush_interval: 100ms\nscan_interval: 200ms\n${extra}inputs:\n  - paths: ["logs/*.log"]\n    format: ${format}\n    dataset: poison\n    namespace: ${ns}\n`;

describe('poison input and the agent', () => {
  it('a JSON line nested 10,000 deep is dead-lettered as text; the lines around it and after it are indexed', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const deep = `{"a":${'{"b":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const arrays = `{"message":"arrays","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    writeFileSync(join(dir, 'logs', 'svc.log'), `{"message":"before"}\n${deep}\n${arrays}\n{"message":"after"}\n`);
    const agent = startAgent(dir, yaml(`deep-${ns}`, ns, 'json'), { TEST_AGENT_TOKEN: shared.collector.token });
    shared.agents.push(agent);
    await waitFor('before and after', async () => (await count(es, `logs-poison-${ns}`)) >= 2, 30_000);
    appendFileSync(join(dir, 'logs', 'svc.log'), '{"message":"later"}\n');
    await waitFor('a later line too', async () => (await count(es, `logs-poison-${ns}`)) >= 3, 30_000);
    const docs = (await allDocs(es, `logs-poison-${ns}`)).map((d) => d._source.message).sort();
    expect(docs).toEqual(['after', 'before', 'later']);
    const dead = await waitFor('two dead letters', async () => {
      const d = await allDocs(es, 'logs-stacklens.deadletter-default', { term: { 'agent.id': `deep-${ns}` } });
      return d.length >= 2 && d;
    });
    expect(dead.map((d) => d._source.error.message).sort()).toEqual(['JSON nested deeper than 32 levels', 'JSON nested deeper than 32 levels']);
    expect(dead.map((d) => d._source.event.original.length).sort((a, b) => a - b)).toEqual([arrays.length, deep.length].sort((a, b) => a - b));
  });

  it('unreadable files are reported once each, retried with a growing pause, and read once they become readable', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'logs', 'ok.log'), 'readable\n');
    for (const f of ['secret-1.log', 'secret-2.log']) {
      writeFileSync(join(dir, 'logs', f), `${f} line\n`);
      chmodSync(join(dir, 'logs', f), 0o000);
    }
    const metricsPort = await freePort();
    const configPath = join(dir, 'agent.yaml');
    writeFileSync(configPath, yaml(`perm-${ns}`, ns, 'plain', `metrics:\n  listen: 127.0.0.1:${metricsPort}\n`));
    // root reads everything: run the agent as nobody, as it would run in production.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) for (const p of [dir, join(dir, 'logs'), join(dir, 'state'), configPath, join(dir, 'logs', 'ok.log')]) chownSync(p, 65534, 65534);
    const cmd = asRoot ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath] : [process.execPath];
    const child = spawn(cmd[0], [...cmd.slice(1), join(REPO, 'agent/dist/cli.js'), '--config', configPath], {
      env: { ...process.env, TEST_AGENT_TOKEN: shared.collector.token, STACKLENS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      await waitFor('the readable file', async () => (await count(es, `logs-poison-${ns}`)) >= 1, 30_000);
      const metric = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
      };
      await waitFor('two unreadable files in the metrics', async () => (await metric('stacklens_agent_unreadable_files')) === 2, 10_000);
      // Absence of repeated reports needs a window of time: 15 scans (every 200 ms) later, still one report per file.
      const started = Date.now();
      await waitFor('3 s of scanning', async () => Date.now() - started > 3000, 5000, 500);
      expect((output.match(/cannot read file/g) ?? []).length).toBe(2);
      for (const f of ['secret-1.log', 'secret-2.log']) chmodSync(join(dir, 'logs', f), 0o644);
      await waitFor('the two files, once readable', async () => (await count(es, `logs-poison-${ns}`)) >= 3, 90_000);
      expect((output.match(/file is readable again/g) ?? []).length).toBe(2);
      expect(await metric('stacklens_agent_unreadable_files')).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a second stop signal (Ctrl-C, then SIGTERM) does not cut the clean shutdown short: offsets are committed', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} of a file read just before the stop`);
    writeFileSync(join(dir, 'logs', 'app.log'), lines.join('\n') + '\n');
    const agent = startAgent(dir, yaml(`sig-${ns}`, ns, 'plain'), { TEST_AGENT_TOKEN: shared.collector.token, STACKLENS_LOG_LEVEL: 'info' });
    shared.agents.push(agent);
    await waitFor('some lines', async () => (await count(es, `logs-poison-${ns}`)) > 0, 30_000, 20);
    agent.proc.child.kill('SIGINT');
    agent.proc.child.kill('SIGTERM');
    expect(await agent.proc.exited).toBe(0);
    expect(agent.proc.output).toContain('agent stopped');
    expect(agent.proc.output).toContain('already shutting down');
    const registry = JSON.parse(readFileSync(join(dir, 'state', 'registry.json'), 'utf8'));
    const offsets = Object.values(registry.files as Record<string, { path: string; offset: number }>).filter((e) => e.path.endsWith('app.log'));
    expect(offsets.map((e) => e.offset)).toEqual([Buffer.byteLength(lines.join('\n') + '\n')]);
    expect(await count(es, `logs-poison-${ns}`)).toBe(5000);
  });

  it('symbolic links are not followed unless follow_symlinks is set; the state directory and registry are private', async () => {
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'secret.txt'), 'a line nobody meant to ship\n');
    symlinkSync(join(dir, 'elsewhere', 'secret.txt'), join(dir, 'logs', 'link.log'));
    writeFileSync(join(dir, 'logs', 'real.log'), 'a real line\n');
    const agent = startAgent(dir, yaml(`link-${ns}`, ns, 'plain'), { TEST_AGENT_TOKEN: shared.collector.token, STACKLENS_LOG_LEVEL: 'info' });
    shared.agents.push(agent);
    await waitFor('the real line', async () => (await count(es, `logs-poison-${ns}`)) >= 1, 30_000);
    await waitFor('the skipped link said once', async () => agent.proc.output.includes('skipping a symbolic link'), 10_000);
    expect((await allDocs(es, `logs-poison-${ns}`)).map((d) => d._source.message)).toEqual(['a real line']);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    await waitFor('the registry written', async () => existsSync(join(dir, 'state', 'registry.json')), 10_000);
    expect(statSync(join(dir, 'state', 'registry.json')).mode & 0o777).toBe(0o600);
    // Asked for: followed.
    await agent.stop();
    writeFileSync(agent.configPath, yaml(`link-${ns}`, ns, 'plain').replace('format: plain\n', 'format: plain\n    follow_symlinks: true\n'));
    agent.restart();
    await waitFor('the linked line too', async () => (await count(es, `logs-poison-${ns}`)) >= 2, 30_000);
  });
});
