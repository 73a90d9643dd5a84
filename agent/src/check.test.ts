// `stacklens-agent --check [--connect]`: the files each glob matches (and why others are
// skipped), and each collector URL probed against a local HTTP server standing in for the
// collector's POST /v1/events.
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectInputs, probeCollector, runCheck, LISTED } from './check.js';
import { loadAgentConfig } from './config.js';

const TOKEN = 'check-test-token';
let server: Server;
let base: string;
/** A port nothing listens on. */
let closedPort: number;
const requests: { url: string; auth?: string; body: any }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      requests.push({ url: req.url!, auth: req.headers.authorization, body });
      const answer = (status: number, json: object) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.url === '/hang/v1/events') return; // never answers
      if (req.method !== 'POST' || !req.url!.endsWith('/v1/events')) return answer(404, { error: 'not found' });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(401, { error: 'unknown token' });
      if (req.url === '/down/v1/events') return answer(503, { error: 'collector not ready: its Elasticsearch templates are not installed yet' });
      if (body.agent.id === 'someone-else') return answer(403, { error: 'agent token "a" may not send as agent "someone-else"' });
      answer(200, { indexed: 0, duplicates: 0, dead_lettered: 0, errors: [] });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function agentYaml(dir: string, text: string): string {
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, text);
  return file;
}

describe('inspectInputs', () => {
  it('lists the files each glob matches and why the others are skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklens-check-'));
    mkdirSync(join(dir, 'logs'));
    for (const f of ['a.log', 'b.log', 'old.log.1.gz', 'secret.log', 'shared.log']) writeFileSync(join(dir, 'logs', f), 'x\n');
    symlinkSync(join(dir, 'logs', 'a.log'), join(dir, 'logs', 'link.log'));
    const config = loadAgentConfig(
      agentYaml(
        dir,
        `collector: {url: "${base}", token: t}
inputs:
  - {paths: ["./logs/*.log*", "./missing/*.log"], format: plain, dataset: app}
  - {paths: ["./logs/shared.log", "./logs/link.log"], format: plain, dataset: other, follow_symlinks: true}
`,
      ),
    );
    // Run as root here, every file is readable: the read check stands in for a file the agent's user may not read.
    const read = async (p: string) => (p.endsWith('secret.log') ? 'EACCES: permission denied' : undefined);
    const [first, second] = await inspectInputs(config.inputs, read);
    const logs = join(dir, 'logs');
    expect(first.globs[0]).toEqual({
      glob: join(logs, '*.log*'),
      files: [join(logs, 'a.log'), join(logs, 'b.log'), join(logs, 'shared.log')],
      excluded: [join(logs, 'old.log.1.gz')],
      symlinks: [join(logs, 'link.log')],
      unreadable: [{ path: join(logs, 'secret.log'), reason: 'EACCES: permission denied' }],
      readByEarlier: [],
      folderProblem: undefined,
    });
    expect(first.globs[1]).toMatchObject({ files: [], folderProblem: `folder ${join(dir, 'missing')} does not exist` });
    // shared.log is read by input 1 only; the link input 1 skipped is read here (follow_symlinks).
    expect(second.globs[0]).toMatchObject({ files: [], readByEarlier: [{ path: join(logs, 'shared.log'), input: 0 }] });
    expect(second.globs[1]).toMatchObject({ files: [join(logs, 'link.log')], symlinks: [] });
  });

  it('the real read check: access(R_OK) as this user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklens-check-'));
    writeFileSync(join(dir, 'a.log'), 'x\n');
    writeFileSync(join(dir, 'closed.log'), 'x\n');
    chmodSync(join(dir, 'closed.log'), 0o000);
    const config = loadAgentConfig(agentYaml(dir, `collector: {url: "${base}", token: t}\ninputs:\n  - {paths: ["./*.log"], format: plain, dataset: app}\n`));
    const [report] = await inspectInputs(config.inputs);
    // Root reads a mode-000 file; any other user cannot.
    if (process.getuid?.() === 0) {
      expect(report.globs[0].files).toEqual([join(dir, 'a.log'), join(dir, 'closed.log')]);
    } else {
      expect(report.globs[0].files).toEqual([join(dir, 'a.log')]);
      expect(report.globs[0].unreadable).toEqual([{ path: join(dir, 'closed.log'), reason: 'EACCES: permission denied' }]);
    }
  });
});

describe('probeCollector', () => {
  const probe = (url: string, over: { token?: string; agentId?: string; timeoutMs?: number } = {}) =>
    probeCollector(url, { token: over.token ?? TOKEN, agentId: over.agentId ?? 'host-1', version: '9.9.9', timeoutMs: over.timeoutMs ?? 5000 });

  it('200: sends an empty batch as the agent, with its token', async () => {
    requests.length = 0;
    const p = await probe(base);
    expect(p).toMatchObject({ ok: true, status: 200, summary: 'answers, token accepted (200)' });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ url: '/v1/events', auth: `Bearer ${TOKEN}`, body: { agent: { id: 'host-1', version: '9.9.9' }, events: [] } });
  });

  it('401: the token is refused', async () => {
    const p = await probe(base, { token: 'wrong' });
    expect(p).toMatchObject({ ok: false, status: 401 });
    expect(p.summary).toContain('token refused (401)');
    expect(p.summary).toContain('unknown token');
  });

  it('403: the token may not send as this agent id', async () => {
    const p = await probe(base, { agentId: 'someone-else' });
    expect(p).toMatchObject({ ok: false, status: 403 });
    expect(p.summary).toContain('may not send as agent "someone-else"');
  });

  it('503: answers but cannot index', async () => {
    const p = await probe(`${base}/down`);
    expect(p).toMatchObject({ ok: false, status: 503 });
    expect(p.summary).toContain('templates are not installed yet');
  });

  it('unreachable: connection refused, with the reason', async () => {
    const p = await probe(`http://127.0.0.1:${closedPort}`);
    expect(p.ok).toBe(false);
    expect(p.status).toBeUndefined();
    expect(p.summary).toMatch(/^does not answer: connection refused \(127\.0\.0\.1:\d+\)/);
  });

  it('no answer within the timeout', async () => {
    const p = await probe(`${base}/hang`, { timeoutMs: 300 });
    expect(p).toMatchObject({ ok: false, summary: 'does not answer: no answer within 0.3 s' });
  });
});

describe('runCheck', () => {
  const check = async (urls: string[], connect: boolean, token = TOKEN) => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklens-check-'));
    for (let i = 0; i < LISTED + 2; i++) writeFileSync(join(dir, `f${i}.log`), 'x\n');
    const config = loadAgentConfig(agentYaml(dir, `id: host-1\ncollector: {urls: ${JSON.stringify(urls)}, token: ${token}}\ninputs:\n  - {paths: ["./*.log"], format: plain, dataset: app}\n`));
    let text = '';
    const code = await runCheck(config, { connect, version: '9.9.9', write: (t) => (text += t) });
    return { code, text, dir };
  };

  it('without --connect: lists files (the first few), does not contact the collector, exits 0', async () => {
    requests.length = 0;
    const { code, text, dir } = await check([`http://127.0.0.1:${closedPort}`], false);
    expect(code).toBe(0);
    expect(requests).toHaveLength(0);
    expect(text).toContain(`input 1 (dataset app, format plain):\n  ${join(dir, '*.log')}: ${LISTED + 2} files to read\n    ${join(dir, 'f0.log')}\n`);
    expect(text).toContain('    … and 2 more\n');
    expect(text).toContain('not contacted (add --connect');
  });

  it('--connect: exit 0 when every URL answers and accepts the token', async () => {
    const { code, text } = await check([base], true);
    expect(code).toBe(0);
    expect(text).toMatch(new RegExp(`collector ${base}: OK, answers, token accepted \\(200\\) \\(\\d+ ms\\)`));
  });

  it('--connect: exit 1 when one URL does not answer, naming it', async () => {
    const { code, text } = await check([base, `http://127.0.0.1:${closedPort}`], true);
    expect(code).toBe(1);
    expect(text).toContain(`collector ${base}: OK`);
    expect(text).toContain(`collector http://127.0.0.1:${closedPort}: FAILED, does not answer: connection refused`);
  });

  it('--connect: exit 1 when the token is refused', async () => {
    const { code, text } = await check([base], true, 'wrong-token');
    expect(code).toBe(1);
    expect(text).toContain(`collector ${base}: FAILED, token refused (401)`);
  });
});
