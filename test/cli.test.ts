// The CLIs as a user meets them: --help, and bad configuration files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('stacklens rules test', () => {
  it('replays a POS log through the shipped rules and prints what would fire', () => {
    const dir = tempDir();
    const log = join(dir, 'pos.log');
    for (const [store, product, count] of [['STORE_001', '999', '2'], ['STORE_001', '1001', '1'], ['STORE_002', '999', '1']]) {
      expect(run('cli/dist/cli.js', ['pos', '--scenario', 'missing-price', '--store', store, '--product', product, '--count', count, '--file', log]).status).toBe(0);
    }
    expect(run('cli/dist/cli.js', ['pos', '--scenario', 'order', '--count', '50', '--file', log]).status).toBe(0);
    const res = run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), log]);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('54 lines (0 unparsed)');
    expect(res.stdout).toContain('→ 2 incident(s)');
    expect(res.stdout).toMatch(/pos-missing-price \[critical\] pos\.store_id=STORE_001 — open\n  template: Product #<\*> has no price\n  count: 3 /);
    expect(res.stdout).toContain('| [');
    const json = JSON.parse(run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules', 'pos-missing-price.yml'), log, '--json']).stdout);
    expect(json.incidents.map((i: any) => [i.group_key, i.count])).toEqual([['pos.store_id=STORE_001', 3], ['pos.store_id=STORE_002', 1]]);
  });

  it('names the file, line and key of a bad rule and exits 1; shows progress on a large file', () => {
    const dir = tempDir();
    const rule = join(dir, 'bad.yml');
    writeFileSync(rule, 'name: bad\nseverity: urgent\ndataset: pos\ntype: any\n');
    const log = join(dir, 'pos.log');
    expect(run('cli/dist/cli.js', ['pos', '--scenario', 'order', '--count', '6000', '--file', log]).status).toBe(0);
    const res = run('cli/dist/cli.js', ['rules', 'test', rule, log]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`${rule}:2: severity: Invalid option: expected one of "critical"|"high"|"medium"|"low"`);
    const big = run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), log]);
    expect(big.status).toBe(0);
    expect(big.stderr).toMatch(/replayed 1\.\d MiB in [\d.]+ s/);
    expect(run('cli/dist/cli.js', ['rules', '--help']).stdout).toContain('Usage: stacklens rules test');
  });

  it('stacklens-collector --check validates rules_dir and every rule file, and says "did you mean"', () => {
    const dir = tempDir();
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, 'listen: 127.0.0.1:18999\nelasticsearch:\n  url: http://127.0.0.1:9\nagent_tokens: ["abcdefghijklmnop1234"]\nrules_dir: ./rules\n');
    const missing = run('collector/dist/cli.js', ['--config', file, '--check']);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain(`rules_dir: ${join(dir, 'rules')} does not exist`);
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'ok.yml'), readFileSync(join(REPO, 'rules', 'pos-missing-price.yml'), 'utf8'));
    writeFileSync(join(dir, 'rules', 'bad.yml'), 'name: bad\nseverity: critical\ndataset: pos\ntype: frequency\nthreshold: 3\nwindow: 1 minute\n');
    const bad = run('collector/dist/cli.js', ['--config', file, '--check']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${join(dir, 'rules', 'bad.yml')}:6: window: not a duration: "1 minute"`);
    expect(bad.stdout).toContain('1 rule(s) valid, 1 file(s) with errors');
    rmSync(join(dir, 'rules', 'bad.yml'));
    expect(run('collector/dist/cli.js', ['--config', file, '--check']).status).toBe(0);
    writeFileSync(file, 'listen: 127.0.0.1:18999\nelasticsearch:\n  url: http://127.0.0.1:9\nagent_tokens: ["${UNSET_FOR_THIS_TEST}"]\nrule_dir: ./rules\n');
    const typo = run('collector/dist/cli.js', ['--config', file, '--check']);
    expect(typo.status).toBe(2);
    expect(typo.stderr.split('\n').filter((l) => l.startsWith(file))).toEqual([
      `${file}:5: (top level): unknown key "rule_dir" (did you mean "rules_dir"?)`,
      `${file}:4: agent_tokens[0]: environment variable UNSET_FOR_THIS_TEST is not set`,
    ]);
    // And rules_dir is still checked: every problem in one pass.
    expect(typo.stderr).toContain(`rules_dir ${join(dir, 'rules')}: 1 rule(s) valid`);
    // A bad logging variable is named, not a stack trace.
    const level = run('collector/dist/cli.js', ['--config', file, '--check'], { STACKLENS_LOG_LEVEL: 'verbose' });
    expect(level.status).toBe(2);
    expect(level.stderr.trim()).toBe('stacklens-collector: STACKLENS_LOG_LEVEL: "verbose" is not one of trace, debug, info, warn, error, fatal, silent');
  });

  it('stacklens rules test: a missing log first, the format detected (or a better one suggested), a per-rule table', () => {
    const dir = tempDir();
    const missing = run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), join(dir, 'nope.log')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(`stacklens rules: cannot read ${join(dir, 'nope.log')}: no such file`);
    const bot = join(dir, 'bot.log');
    expect(run('cli/dist/cli.js', ['chatbot', '--count', '20', '--file', bot]).status).toBe(0);
    const detected = run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), bot]);
    expect(detected.status, detected.stderr).toBe(0);
    expect(detected.stderr).toMatch(/^format: chatbot \(detected: it parses \d+ of the first \d+ lines; --format to choose\)/);
    expect(detected.stdout).toMatch(/^RULE\s+SEVERITY\s+TYPE\s+INCIDENTS\s+EVENTS IN THEM$/m);
    expect(detected.stdout).toMatch(/^chatbot-error-spike\s+high\s+spike\s+\d+\s+\d+$/m);
    // Plain text is plain, not a container format (found by an outside tester).
    const plain = join(dir, 'plain.log');
    writeFileSync(plain, 'hello world\nsecond line\n');
    expect(run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), plain]).stderr).toMatch(/^format: plain \(detected/);
    const wrong = run('cli/dist/cli.js', ['rules', 'test', join(REPO, 'rules'), bot, '--format', 'pos']);
    expect(wrong.stderr).toMatch(/note: \d+ of \d+ lines did not parse as pos; --format chatbot parses \d+ of the first \d+/);
  });

  it('stacklens es: usage errors exit 2 and say why, before anything starts', () => {
    const home = tempDir();
    const es = (...args: string[]) => run('cli/dist/cli.js', ['es', ...args], { STACKLENS_HOME: home });
    const cases: [string[], RegExp][] = [
      [['start', '--nodes'], /--nodes <value>' argument missing/],
      [['start', '--bogus'], /Unknown option '--bogus'/],
      [['start', '--nodes', '0'], /--nodes must be a whole number from 1 to 9/],
      [['start', '--nodes', '10'], /--nodes must be a whole number from 1 to 9/],
      [['start', '--port', '65500', '--nodes', '3'], /--port 65500 leaves no room for 3 nodes/],
      [['start', '--port', '65535'], /--port 65535 leaves no room for the transport port/],
    ];
    for (const [args, message] of cases) {
      const res = es(...args);
      expect(res.status, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    // A cluster recorded on 9990: its size is kept, and its other nodes' ports point at it.
    mkdirSync(join(home, 'es', '9990'), { recursive: true });
    writeFileSync(join(home, 'es', '9990', 'cluster.json'), '{"nodes":3}\n');
    const wrongSize = es('start', '--nodes', '2', '--port', '9990');
    expect(wrongSize.status).toBe(2);
    expect(wrongSize.stderr).toMatch(/a 3-node cluster was set up on port 9990: use --nodes 3/);
    const member = es('status', '--port', '9992');
    expect(member.status).toBe(2);
    expect(member.stderr).toMatch(/port 9992 is stacklens-es-2 of the cluster set up on port 9990: use --port 9990/);
    const down = es('status', '--port', '9990', '--json');
    expect(down.status).toBe(3);
    expect(JSON.parse(down.stdout).nodes.map((n: { name: string; running: boolean }) => [n.name, n.running])).toEqual([['stacklens-es-0', false], ['stacklens-es-1', false], ['stacklens-es-2', false]]);
  });
});
