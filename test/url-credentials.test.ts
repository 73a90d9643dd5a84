// Issue #14: a URL's password (http://elastic:PW@…) never shows in what the programs print —
// --check's summary, config errors, and the collector's own log lines ("collector listening").
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, freePort, tempDir } from './helpers.js';

// A fake password made at run time: nothing in the repository or the environment holds it.
const password = () => `Fk${randomBytes(12).toString('hex')}`;
const token = 't'.repeat(32);

const run = (script: string, args: string[]) => spawnSync(process.execPath, [join(REPO, script), ...args], { encoding: 'utf8', env: { ...process.env, STACKLENS_LOG_LEVEL: 'info' } });

describe('URL credentials are masked in what the CLIs print', () => {
  it('stacklens-collector --check', () => {
    const pw = password();
    const dir = tempDir();
    // --check also wants rules_dir (default ./rules, beside the file) to exist.
    mkdirSync(join(dir, 'rules'));
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, `listen: 127.0.0.1:0\nelasticsearch:\n  urls: ["http://elastic:${pw}@127.0.0.1:1", "https://ops:${pw}@127.0.0.1:2"]\nagent_tokens: ["${token}"]\n`);
    const res = run('collector/dist/cli.js', ['--config', file, '--check']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain('Elasticsearch http://elastic:***@127.0.0.1:1, https://ops:***@127.0.0.1:2');
    expect(res.stdout + res.stderr).not.toContain(pw);
  });

  it('stacklens-collector with an invalid config holding a URL with credentials', () => {
    const pw = password();
    const file = join(tempDir(), 'collector.yaml');
    writeFileSync(file, `listen: 127.0.0.1:0\nelasticsearch:\n  url: http://elastic:${pw}@127.0.0.1:1\n  username: elastic\nagent_tokens: ["${token}"]\n`);
    const res = run('collector/dist/cli.js', ['--config', file, '--check']);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('username and password go together');
    expect(res.stdout + res.stderr).not.toContain(pw);
  });

  it('stacklens-agent --check (collector.url with credentials)', () => {
    const pw = password();
    const file = join(tempDir(), 'agent.yaml');
    writeFileSync(file, `collector:\n  url: http://stacklens:${pw}@127.0.0.1:1\n  token: ${token}\ninputs:\n  - paths: ["/tmp/stacklens-none/*.log"]\n    format: pos\n    dataset: pos\n`);
    const res = run('agent/dist/cli.js', ['--config', file, '--check']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain('collector http://stacklens:***@127.0.0.1:1');
    expect(res.stdout + res.stderr).not.toContain(pw);
  });

  it("the collector's log lines, 'collector listening' included, while Elasticsearch is unreachable", async () => {
    const pw = password();
    const dir = tempDir();
    const file = join(dir, 'collector.yaml');
    const port = await freePort();
    writeFileSync(file, `listen: 127.0.0.1:${port}\nelasticsearch:\n  url: http://elastic:${pw}@127.0.0.1:1\n  request_timeout: 1s\nagent_tokens: ["${token}"]\nrules_dir: ${join(dir, 'rules')}\n`);
    const child = spawn(process.execPath, [join(REPO, 'collector/dist/cli.js'), '--config', file], { env: { ...process.env, STACKLENS_LOG_LEVEL: 'debug' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Until it says it listens (or gives up), then a little longer for the retries' lines.
    const deadline = Date.now() + 20_000;
    while (!output.includes('collector listening') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    expect(output).toContain('collector listening');
    expect(output).toContain('http://elastic:***@127.0.0.1:1');
    expect(output).not.toContain(pw);
  });
});
