// #19 a day of operating from the terminal: `stacklens incidents list|show|ack|resolve|silence`
// against a real collector — the table, the detail, the actions, the CLI config file, and
// errors that say what to change.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, api, missingPrice, missingPriceAnyRule, startStack, type Stack } from './stack.js';

const esUrl = inject('esUrl');
const running: (AgentHandle | CollectorHandle)[] = [];
let stack: Stack;
let home: string;

function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'incidents', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: join(home, 'config'), STACKLENS_CLI_CONFIG: undefined, STACKLENS_URL: stack.collectors[0].url, STACKLENS_TOKEN: ADMIN, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  home = tempDir();
  stack = await startStack(esUrl, running, { 'mp.yml': missingPriceAnyRule('cli-mp-$NS') });
  stack.log.append([missingPrice('STORE_C1'), missingPrice('STORE_C1'), missingPrice('STORE_C2')]);
  await waitFor('two incidents', async () => (await api(stack.collectors[0], `/incidents?rule=cli-mp-${stack.ns}`)).body.total === 2, 30_000);
}, 240_000);
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop('SIGKILL');
});

describe('stacklens incidents', () => {
  it('list: one row per incident with severity, status, rule, group, count, times, ticket, age — and --json', async () => {
    const r = cli(['list', '--rule', `cli-mp-${stack.ns}`]);
    expect(r.code, r.err).toBe(0);
    const [header, ...rows] = r.out.trimEnd().split('\n');
    expect(header).toMatch(/^SEVERITY\s+STATUS\s+RULE\s+GROUP\s+COUNT\s+FIRST SEEN\s+LAST SEEN\s+TICKET\s+AGE\s+ID\s+SUMMARY$/);
    expect(rows).toHaveLength(2);
    const c1 = rows.find((l) => l.includes('pos.store_id=STORE_C1'))!;
    expect(c1).toMatch(new RegExp(`^critical\\s+open\\s+cli-mp-${stack.ns}\\s+pos\\.store_id=STORE_C1\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+\\S+ \\S+\\s+—\\s+\\d+[smhd]\\s+inc-\\S+\\s+Product #<\\*> has no price — pos.store_id=STORE_C1: 2 events`));
    expect(r.err).toContain('2 of 2 incident(s)');
    const json = JSON.parse(cli(['list', '--rule', `cli-mp-${stack.ns}`, '--json']).out);
    expect(json.incidents).toHaveLength(2);
  });

  it('show, ack, resolve and silence an incident; the timeline tells it', async () => {
    const id = JSON.parse(cli(['list', '--rule', `cli-mp-${stack.ns}`, '--json']).out).incidents.find((i: any) => i.group_key.endsWith('STORE_C2')).id;
    const shown = cli(['show', id]);
    expect(shown.code, shown.err).toBe(0);
    for (const part of [id, '[critical] open', 'Product #<*> has no price — pos.store_id=STORE_C2', 'rule        cli-mp-', 'group       pos.store_id=STORE_C2', 'Analysis', 'Samples', 'Timeline', 'detected']) expect(shown.out).toContain(part);
    const ack = cli(['ack', id, '--note', 'looking']);
    expect(ack.code, ack.err).toBe(0);
    expect(ack.out).toMatch(new RegExp(`^${id} acknowledged by `));
    // Twice: the collector says why not.
    const again = cli(['ack', id]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/answered 409/);
    const silenced = cli(['silence', id, '--for', '1h', '--reason', 'known, fix deploying']);
    expect(silenced.code, silenced.err).toBe(0);
    expect(silenced.out).toMatch(new RegExp(`^silenced cli-mp-${stack.ns} pos.store_id=STORE_C2 until \\d{4}-`));
    const resolved = cli(['resolve', id, '--note', 'price set']);
    expect(resolved.code, resolved.err).toBe(0);
    expect(resolved.out).toContain(`${id} resolved`);
    const after = cli(['show', id]);
    expect(after.out).toMatch(/acknowledged\s+by admin_tokens\[0\]|acknowledged\s+by api/);
    expect(after.out).toMatch(/resolved\s+by .*price set/);
    // The default list (open and acknowledged) no longer shows it.
    expect(cli(['list', '--rule', `cli-mp-${stack.ns}`]).out).not.toContain(id);
  });

  it('reads url and token from ~/.config/stacklens/cli.yaml, and warns when others can read it', () => {
    mkdirSync(join(home, 'config', 'stacklens'), { recursive: true });
    const file = join(home, 'config', 'stacklens', 'cli.yaml');
    writeFileSync(file, `url: ${stack.collectors[0].url}\ntoken: ${VIEWER}\n`);
    chmodSync(file, 0o600);
    const r = cli(['list', '--rule', `cli-mp-${stack.ns}`, '--status', 'open'], { STACKLENS_URL: undefined, STACKLENS_TOKEN: undefined });
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('warning');
    chmodSync(file, 0o644);
    expect(cli(['list', '--status', 'open'], { STACKLENS_URL: undefined, STACKLENS_TOKEN: undefined }).err).toContain(`warning: ${file} holds a token and is readable by others: chmod 600`);
    // A viewer may not act.
    const refused = cli(['ack', 'whatever'], { STACKLENS_URL: undefined, STACKLENS_TOKEN: undefined });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/may not do this \(403: .*viewer role/);
    writeFileSync(file, 'url: [not, a, string]\n');
    const bad = cli(['list'], { STACKLENS_URL: undefined, STACKLENS_TOKEN: undefined });
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${file}: url: must be a string`);
  });

  it('usage errors exit 2 and say what was expected', () => {
    expect(cli([]).code).toBe(2);
    const noId = cli(['show']);
    expect(noId.code).toBe(2);
    expect(noId.err).toContain('one incident id expected');
    expect(cli(['ack', '']).err).toContain('one incident id expected');
    const unknown = cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown subcommand "frobnicate"');
    const silence = cli(['silence', 'x']);
    expect(silence.code).toBe(2);
    expect(silence.err).toContain('--for (e.g. 1h) and --reason are required');
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('stacklens incidents list --severity critical');
  });
  it('list --json | a reader: the whole answer arrives through a pipe (no cut at 64 KiB)', async () => {
    // Enough incidents for an answer well over 64 KiB.
    stack.log.append(Array.from({ length: 60 }, (_, i) => missingPrice(`STORE_BIG${i}`)));
    await waitFor('60 more incidents', async () => (await api(stack.collectors[0], `/incidents?rule=cli-mp-${stack.ns}`)).body.total >= 62, 60_000);
    const r = spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'incidents', 'list', '--rule', `cli-mp-${stack.ns}`, '--status', 'open,acknowledged,resolved', '--size', '200', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, STACKLENS_URL: stack.collectors[0].url, STACKLENS_TOKEN: ADMIN } });
    expect(r.stdout.length).toBeGreaterThan(64 * 1024);
    expect(JSON.parse(r.stdout).incidents.length).toBeGreaterThanOrEqual(62);
  });

});
