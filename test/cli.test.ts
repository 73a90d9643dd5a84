// The CLIs as a user meets them: --help, and bad configuration files.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';

const run = (script: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(REPO, script), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('CLIs', () => {
  it.each([
    ['agent/dist/cli.js', 'Usage: stacklens-agent'],
    ['collector/dist/cli.js', 'Usage: stacklens-collector'],
    ['cli/dist/cli.js', 'Usage: stacklens <command>'],
  ])('%s --help', (script, usage) => {
    const res = run(script, ['--help']);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain(usage);
  });

  it('stacklens-agent names the file, line and key of a bad config and exits 2', () => {
    const dir = tempDir();
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'collector:\n  url: http://127.0.0.1:8080\n  token: ${MISSING_TOKEN_VAR}\ninputs:\n  - paths: ["/var/log/pos/*.log"]\n    format: csv\n    dataset: pos\n');
    const res = run('agent/dist/cli.js', ['--config', file]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`${file}:3: collector.token: environment variable MISSING_TOKEN_VAR is not set`);
    const res2 = run('agent/dist/cli.js', ['--config', file], { MISSING_TOKEN_VAR: 'x' });
    expect(res2.status).toBe(2);
    expect(res2.stderr).toContain(`${file}:6: inputs[0].format: must be one of pos, chatbot, json, plain`);
  });

  it('stacklens-collector rejects an unknown key and a missing token list', () => {
    const dir = tempDir();
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, 'listen: 127.0.0.1:8080\nelasticsearch:\n  url: http://127.0.0.1:9200\n  passwrd: x\n');
    const res = run('collector/dist/cli.js', ['--config', file]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`${file}:4: elasticsearch: unknown key "passwrd"`);
    expect(res.stderr).toContain('agent_tokens: is required');
  });

  it('stacklens pos appends the requested scenario lines', () => {
    const file = join(tempDir(), 'pos.log');
    const res = run('cli/dist/cli.js', ['pos', '--scenario', 'missing-price', '--store', 'STORE_001', '--count', '5', '--file', file]);
    expect(res.status).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/^\[[^\]]+\] \[CRITICAL\] Product #999 has no price \| \{.*"storeNumber":"STORE_001".*"errorType":"MISSING_PRICE"\}$/);
    const bad = run('cli/dist/cli.js', ['pos', '--scenario', 'nope', '--file', file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown scenario "nope"');
  });
});
