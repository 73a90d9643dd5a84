// The agent installable without the repository (`npm run package:agent`): the tarball is
// built, unpacked into an empty folder and run the way its systemd unit runs it — the
// command line taken from the unit's ExecStart, the environment from its EnvironmentFile,
// no NODE_PATH, a working directory outside the repository, and (as root) inside the unit's
// sandbox rebuilt with unshare and setpriv: an unprivileged user, no capabilities, no new
// privileges, every file system read-only but the state directory (User=, CapabilityBoundingSet=,
// NoNewPrivileges=, ProtectSystem=strict, ReadWritePaths=) — and it ships lines to a real
// collector, reloads on the unit's ExecReload, and stops with exit 0 on SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { builtinModules } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { posOrderLine, rng } from '@stacklens/demo';
import { AGENT_VERSION } from '../agent/src/event-builder.js';
import { IN_CI } from './programs.js';
import { allDocs, count, esClient, REPO, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';

const es = esClient(inject('esUrl'));
/** What the unit's paths stand for here: the package and its configuration live in temporary folders. */
const UNIT_HOME = '/opt/stacklens-agent';
const UNIT_ETC = '/etc/stacklens-agent';

let collector: CollectorHandle;
let tarball: string;
/** The unpacked package: <install>/stacklens-agent-<version>. */
let home: string;
let installDir: string;
/** An empty folder: the processes' working directory and HOME, as systemd gives a service none of the repository. */
let cwd: string;
const children: ChildProcess[] = [];

/**
 * The environment systemd gives the service: its default PATH (plus the folder of the node
 * running this test, should it live elsewhere), nothing else of this shell — no NODE_PATH,
 * no NODE_OPTIONS — and what the unit's EnvironmentFile holds.
 */
function serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
  const nodeDir = dirname(process.execPath);
  expect(nodeDir.startsWith(REPO)).toBe(false);
  return { PATH: ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', nodeDir].join(delimiter), HOME: cwd, LANG: 'C.UTF-8', NODE_PATH: '', ...extra };
}

/** The [Service] settings of the unit file (the last of a repeated key wins, as in systemd). */
function unitSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1];
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      settings.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return settings;
}

/** An EnvironmentFile's KEY=VALUE lines. */
function envFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Replace `from` (which must occur exactly once) by `to`: the example keeps the shape the test relies on. */
function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `agent.yaml.example holds "${from}" once`).toBe(1);
  return text.replace(from, to);
}

/** The user the sandboxed agent runs as (nobody): not root, owns nothing but its state directory. */
const SERVICE_UID = 65534;

/**
 * The unit's sandbox, as far as it can be rebuilt without systemd as PID 1: a private mount
 * namespace whose mounts are all read-only but the state directory and the API file systems
 * (ProtectSystem=strict, ReadWritePaths=), then setpriv to an unprivileged user with no
 * capabilities and no_new_privs (User=, CapabilityBoundingSet=, NoNewPrivileges=). Every step
 * execs the next, so the process spawned is the agent (MAINPID). Returns the command prefix.
 */
function sandbox(stateDir: string): string[] {
  const script = [
    'set -e',
    'state=$1; shift',
    'mount --bind "$state" "$state"',
    "for m in $(awk '{print $5}' /proc/self/mountinfo | grep -Ev '^/(proc|sys|dev)(/|$)' | sort -u); do mount -o remount,bind,ro \"$m\" 2>/dev/null || true; done",
    'mount -o remount,bind,rw "$state"',
    `exec setpriv --reuid=${SERVICE_UID} --regid=${SERVICE_UID} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"`,
  ].join('\n');
  return ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sandbox', stateDir];
}

/** Undefined when the sandbox works here (it needs root and mount namespaces); else why not. */
function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const probe = tempDir('stacklens-package-probe-');
  const state = join(probe, 'state');
  mkdirSync(state);
  chownSync(state, SERVICE_UID, SERVICE_UID);
  chmodSync(probe, 0o755);
  // Inside: the user, a writable state directory, everything else read-only.
  const [cmd, ...args] = sandbox(state);
  const res = spawnSync(cmd, [...args, '/bin/sh', '-c', 'id -u; touch "$1/w"; if touch "$2/w" 2>/dev/null; then echo writable; fi', 'probe', state, probe], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return `unshare/setpriv failed: ${res.error?.message ?? res.stderr.trim()}`;
  expect(res.stdout).toBe(`${SERVICE_UID}\n`);
  expect(readdirSync(state)).toEqual(['w']);
  return undefined;
}

/** Let the service user read what the test wrote (temporary folders are 0700). */
const openUp = (...dirs: string[]) => dirs.forEach((d) => chmodSync(d, 0o755));

beforeAll(async () => {
  const out = tempDir('stacklens-package-out-');
  const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'package-agent.mjs'), '--out', out], { cwd: REPO, encoding: 'utf8' });
  expect(built.status, built.stderr + built.stdout).toBe(0);
  const name = readdirSync(out).find((f) => f.endsWith('-linux-x64.tar.gz'));
  expect(name).toBe(`stacklens-agent-${AGENT_VERSION}-linux-x64.tar.gz`);
  tarball = join(out, name!);
  installDir = tempDir('stacklens-package-install-');
  expect(readdirSync(installDir)).toEqual([]);
  const unpacked = spawnSync('tar', ['-xzf', tarball, '-C', installDir], { encoding: 'utf8' });
  expect(unpacked.status, unpacked.stderr).toBe(0);
  home = join(installDir, `stacklens-agent-${AGENT_VERSION}`);
  cwd = tempDir('stacklens-package-cwd-');
  collector = await startCollector(inject('esUrl'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await collector?.stop('SIGKILL');
});

describe('the agent package', () => {
  it('holds the launcher, one bundled file, the unit, an example and INSTALL — nothing that reaches into the repository', () => {
    expect(readdirSync(installDir)).toEqual([basename(home)]);
    expect(readdirSync(home).sort()).toEqual(['CONFIGURATION.md', 'INSTALL.md', 'THIRD-PARTY-LICENSES.txt', 'agent.yaml.example', 'bin', 'lib', 'stacklens-agent.service']);
    expect(readFileSync(join(home, 'CONFIGURATION.md'), 'utf8')).toContain('max_line_bytes');
    expect(readdirSync(join(home, 'bin'))).toEqual(['stacklens-agent']);
    expect(readdirSync(join(home, 'lib'))).toEqual(['stacklens-agent.mjs']);
    expect(statSync(join(home, 'bin', 'stacklens-agent')).mode & 0o111).toBe(0o111);
    expect(statSync(tarball).size).toBeLessThan(2 * 1024 * 1024);
    expect(readFileSync(`${tarball}.sha256`, 'utf8')).toMatch(new RegExp(`^[0-9a-f]{64}  ${basename(tarball)}\\n$`));

    const bundle = readFileSync(join(home, 'lib', 'stacklens-agent.mjs'), 'utf8');
    expect(bundle).not.toContain(REPO);
    // Latin-1 only: V8 holds a script with any wider character at two bytes per character (1.2 MB more resident).
    expect(bundle).not.toMatch(/[^\x00-\xff]/);
    expect(bundle).not.toMatch(/(?:require|import)\s*\(?\s*["']@stacklens\//);
    // Every module it loads is one of Node's own: the libraries are inside.
    const loaded = [
      ...[...bundle.matchAll(/\b(?:require|__require)\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]),
      ...[...bundle.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']/g)].map((m) => m[1]),
    ];
    expect(loaded.length).toBeGreaterThan(0);
    expect([...new Set(loaded)].filter((m) => !m.startsWith('node:') && !builtinModules.includes(m))).toEqual([]);
    // "node_modules" survives only in esbuild's labels of the modules it wrapped.
    expect(bundle.replace(/__(?:commonJS|esm)\(\{"[^"]*node_modules\/[^"]+"\(/g, '')).not.toContain('node_modules');
    for (const lib of ['prom-client', 'zod', 'tinyglobby', 'picomatch', 'safe-regex2', 'yaml']) {
      expect(readFileSync(join(home, 'THIRD-PARTY-LICENSES.txt'), 'utf8')).toMatch(new RegExp(`^  ${lib}@\\d`, 'm'));
    }

    // The memory flags: one line in the launcher, quoted by INSTALL's "Memory" section.
    const launcher = readFileSync(join(home, 'bin', 'stacklens-agent'), 'utf8');
    const flags = launcher.match(/^NODE_FLAGS="([^"]+)"$/gm);
    expect(flags).toHaveLength(1);
    const install = readFileSync(join(home, 'INSTALL.md'), 'utf8');
    expect(install).toContain('## Memory');
    expect(install).toContain(flags![0]);
    expect(install).toContain('Node.js 20 or later');
    expect(install).not.toContain('@VERSION@');
    expect(install).toContain(`stacklens-agent-${AGENT_VERSION}-linux-x64.tar.gz`);
  });

  it('--version and --help, run from the package alone', () => {
    const bin = join(home, 'bin', 'stacklens-agent');
    const version = spawnSync(bin, ['--version'], { cwd, env: serviceEnv(), encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toBe(`stacklens-agent ${AGENT_VERSION}\n`);
    const help = spawnSync(bin, ['--help'], { cwd, env: serviceEnv(), encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: stacklens-agent --config <agent.yaml> [--check [--connect]]');
    // Through a symbolic link (e.g. /usr/local/bin/stacklens-agent), it still finds its lib/.
    const link = join(tempDir('stacklens-package-link-'), 'stacklens-agent');
    spawnSync('ln', ['-s', bin, link]);
    expect(spawnSync(link, ['--version'], { cwd, env: serviceEnv(), encoding: 'utf8' }).stdout).toBe(`stacklens-agent ${AGENT_VERSION}\n`);
    // Without Node.js on the PATH: a clear message, exit 127.
    const noNode = spawnSync('/bin/sh', [bin, '--version'], { cwd, env: { PATH: '/nonexistent', NODE_PATH: '' }, encoding: 'utf8' });
    expect(noNode.status).toBe(127);
    expect(noNode.stderr).toContain('Node.js not found');
  });

  it('the systemd unit: a dedicated user, a read-only system but for the state directory, restart on failure, reload by SIGHUP', () => {
    const text = readFileSync(join(home, 'stacklens-agent.service'), 'utf8');
    const unit = unitSettings(text);
    for (const [key, value] of Object.entries({
      User: 'stacklens-agent',
      ExecStart: `${UNIT_HOME}/bin/stacklens-agent --config ${UNIT_ETC}/agent.yaml`,
      ExecReload: '/bin/kill -HUP $MAINPID',
      EnvironmentFile: `-${UNIT_ETC}/env`,
      Restart: 'on-failure',
      StateDirectory: 'stacklens-agent',
      ReadWritePaths: '/var/lib/stacklens-agent',
      ProtectSystem: 'strict',
      ProtectHome: 'read-only',
      NoNewPrivileges: 'yes',
      PrivateTmp: 'yes',
      CapabilityBoundingSet: '',
    })) {
      expect(unit.get(key), key).toBe(value);
    }
    // V8 compiles code at run time: W^X memory would kill the agent.
    expect(unit.has('MemoryDenyWriteExecute')).toBe(false);
    expect(readFileSync(join(home, 'agent.yaml.example'), 'utf8')).toMatch(/^state_dir: \/var\/lib\/stacklens-agent\b/m);

    // systemd's own checks, on the unit as installed at this package's folder.
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error) {
      const why = 'systemd-analyze is not installed (Debian: apt-get install systemd): the unit file is not verified by systemd';
      if (IN_CI) throw new Error(`${why} — CI must run this check`);
      console.warn(`SKIPPED (one assertion): ${why}`);
      expect(unit.get('ExecStart')).toMatch(/^\//); // what verify would need: an absolute command
      return;
    }
    const dir = tempDir('stacklens-package-unit-');
    const installed = join(dir, 'stacklens-agent.service');
    writeFileSync(installed, text.replaceAll(UNIT_HOME, home));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', installed], { encoding: 'utf8' });
    // verify exits 0 on unknown keys too, only warning: any output is a finding.
    expect({ status: verify.status, output: (verify.stdout + verify.stderr).trim() }).toEqual({ status: 0, output: '' });
    // The exposure score, 0 (locked down) to 10 (unprotected): 2.0 at most.
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', installed], { encoding: 'utf8' });
    expect(security.status, security.stdout.split('\n').filter((l) => l.includes('✗') || l.includes('Overall')).join('\n')).toBe(0);
  });

  it('runs as its unit runs it: --check --connect, ships lines to the collector, reloads on ExecReload, exits 0 on SIGTERM', async () => {
    const ns = uniqueNamespace();
    const unit = unitSettings(readFileSync(join(home, 'stacklens-agent.service'), 'utf8'));
    const etc = tempDir('stacklens-package-etc-');
    const data = tempDir('stacklens-package-data-');
    const state = join(data, 'state');
    mkdirSync(join(data, 'logs'));
    mkdirSync(join(data, 'more'));
    const here = (path: string) => path.replace(UNIT_HOME, home).replace(UNIT_ETC, etc);
    // StateDirectory=: the state directory exists, owned by the service's user, mode 0700.
    mkdirSync(state, { mode: 0o700 });
    const why = sandboxUnavailable();
    if (why) {
      const message = `the unit's sandbox cannot be rebuilt here (${why}): the agent runs unsandboxed, as this user`;
      if (IN_CI) throw new Error(`${message} — CI must run it sandboxed`);
      console.warn(`SKIPPED (the sandbox): ${message}`);
    } else {
      chownSync(state, SERVICE_UID, SERVICE_UID);
      openUp(installDir, cwd, etc, data, join(data, 'logs'), join(data, 'more'));
    }
    const prefix = why ? [] : sandbox(state);

    // /etc/stacklens-agent/agent.yaml from the example, pointed at this test's folders and collector.
    let yaml = readFileSync(join(home, 'agent.yaml.example'), 'utf8');
    yaml = replaceOnce(yaml, 'state_dir: /var/lib/stacklens-agent', `state_dir: ${state}`);
    yaml = replaceOnce(yaml, 'url: http://127.0.0.1:8080', `url: ${collector.url}`);
    yaml = replaceOnce(yaml, '"/var/log/pos/*.log"', `"${join(data, 'logs', '*.log')}"`);
    yaml = replaceOnce(yaml, '    dataset: pos ', `    namespace: ${ns}\n    dataset: pos `);
    yaml = replaceOnce(yaml, '# id: pos-host-1', `id: package-${ns}\nbatch:\n  flush_interval: 100ms\n#`);
    expect(yaml).toContain('token: ${STACKLENS_AGENT_TOKEN}');
    writeFileSync(join(etc, 'agent.yaml'), yaml);
    // The token in the EnvironmentFile, as INSTALL.md says.
    const envPath = here(unit.get('EnvironmentFile')!.replace(/^-/, ''));
    writeFileSync(envPath, `# written by the test\nSTACKLENS_AGENT_TOKEN=${collector.token}\nSTACKLENS_LOG_LEVEL=info\n`);
    const env = serviceEnv(envFile(readFileSync(envPath, 'utf8')));
    const execStart = here(unit.get('ExecStart')!).split(/\s+/);
    expect(execStart[0]).toBe(join(home, 'bin', 'stacklens-agent'));
    const [command, ...args] = [...prefix, ...execStart];

    const rand = rng(7);
    const first = Array.from({ length: 20 }, () => posOrderLine({ rand }));
    appendFileSync(join(data, 'logs', 'pos.log'), first.map((l) => `${l}\n`).join(''));

    // INSTALL's step 4: the check, with the collector asked.
    const check = spawnSync(command, [...args, '--check', '--connect'], { cwd, env, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`${join(data, 'logs', '*.log')}: 1 file to read\n    ${join(data, 'logs', 'pos.log')}\n`);
    expect(check.stdout).toMatch(new RegExp(`collector ${collector.url}: OK, answers, token accepted \\(200\\)`));
    if (!why) expect(check.stdout).toContain(`state_dir ${state}: writable`);
    const refused = spawnSync(command, [...args, '--check', '--connect'], { cwd, env: { ...env, STACKLENS_AGENT_TOKEN: 'not-the-token' }, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`collector ${collector.url}: FAILED, token refused (401)`);

    // ExecStart.
    const agent = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(agent);
    let output = '';
    agent.stdout!.on('data', (d) => (output += d));
    agent.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => agent.on('exit', (code, signal) => r({ code, signal })));
    /** Wait for `what`, failing at once should the agent exit meanwhile. */
    const whileUp = <T>(wait: Promise<T>): Promise<T> =>
      Promise.race([wait, exited.then(({ code, signal }) => Promise.reject(new Error(`the agent exited (${code ?? signal}):\n${output.slice(-3000)}`)))]);
    // The launcher execs node: the process systemd would know as MAINPID is the agent itself.
    await whileUp(waitFor('the launcher to exec node', async () => basename(readlinkSync(`/proc/${agent.pid}/exe`)).startsWith('node'), 10_000));
    if (!why) {
      // The sandbox holds: the unprivileged user, no capabilities, no new privileges.
      const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${SERVICE_UID}\\s+${SERVICE_UID}\\s`, 'm'));
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^CapBnd:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    }

    const index = `logs-pos-${ns}`;
    await whileUp(waitFor('the first lines in Elasticsearch', async () => (await count(es, index)) === first.length, 30_000));
    const docs = await allDocs(es, index);
    expect(docs.map((d) => d._source.log.file.path)).toEqual(first.map(() => join(data, 'logs', 'pos.log')));
    expect(new Set(docs.map((d) => d._source.log.offset)).size).toBe(first.length);
    expect(docs[0]._source.agent).toMatchObject({ id: `package-${ns}`, version: AGENT_VERSION });

    // ExecReload: a new input, from a reloaded file, ships while the process stays up.
    writeFileSync(join(etc, 'agent.yaml'), `${yaml}  - paths: ["${join(data, 'more', '*.log')}"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`);
    const second = Array.from({ length: 10 }, () => posOrderLine({ rand }));
    appendFileSync(join(data, 'more', 'pos.log'), second.map((l) => `${l}\n`).join(''));
    const [kill, ...killArgs] = unit.get('ExecReload')!.replace('$MAINPID', String(agent.pid)).split(/\s+/);
    expect(spawnSync(kill, killArgs).status).toBe(0);
    await whileUp(waitFor("the reloaded input's lines", async () => (await count(es, index)) === first.length + second.length, 30_000));
    expect(output).toContain('SIGHUP: configuration reloaded');
    expect(agent.exitCode).toBeNull();

    // systemctl stop: SIGTERM, exit 0, its offsets in the state directory — and nothing written anywhere else.
    agent.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(readdirSync(state)).toContain('registry.json');
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(home).sort()).toEqual(['CONFIGURATION.md', 'INSTALL.md', 'THIRD-PARTY-LICENSES.txt', 'agent.yaml.example', 'bin', 'lib', 'stacklens-agent.service']);
    expect(readFileSync(join(home, 'CONFIGURATION.md'), 'utf8')).toContain('max_line_bytes');
  });
});
