// Runs the real Elasticsearch 8.14.1 server on this machine: fetched from Maven Central by
// elasticsearch/pom.xml, started in one JVM (heap ≤ 1 GiB) with its data under .stacklens/.
// Used by `stacklens es start|stop|status`, the tests and the demo.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, realpathSync, rmSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '@stacklens/common';
import { ensureRootPlugin } from './root-plugin.js';

export const ES_VERSION = '8.14.1';
export const DEFAULT_ES_PORT = 9200;

/** The repository root (this file is elasticsearch/dist/runner.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunnerOptions {
  port?: number;
  /** Where .stacklens lives; default: the repository root, or $STACKLENS_HOME. */
  home?: string;
  heapMb?: number;
  /** Progress lines (downloads, waiting); default: stderr. */
  log?: (line: string) => void;
}

export interface EsInstance {
  url: string;
  port: number;
  dir: string;
  pid?: number;
  /** true when an Elasticsearch was already answering on the port and we reused it. */
  reused: boolean;
  /** Started by stacklens (its pid file is here and the process lives): `stacklens es stop` can stop it. */
  owned: boolean;
}

const defaultLog = (line: string) => process.stderr.write(`${line}\n`);

function stacklensHome(opts: RunnerOptions): string {
  return resolve(opts.home ?? process.env.STACKLENS_HOME ?? join(REPO_ROOT, '.stacklens'));
}

export function instanceDir(opts: RunnerOptions, port: number): string {
  return join(stacklensHome(opts), 'es', String(port));
}

/** GET a path of a local Elasticsearch; undefined when nothing (or not Elasticsearch) answers. */
export async function probe(url: string, path = '/_cluster/health'): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(2000) });
    if (res.headers.get('x-elastic-product') !== 'Elasticsearch') return undefined;
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Unpack the server distribution from Maven Central (once) and install our stacklens-root plugin
 * into it (GET / answers like stock Elasticsearch; see root-plugin.ts). Returns its directory.
 */
export function ensureDistribution(opts: RunnerOptions = {}): string {
  const log = opts.log ?? defaultLog;
  const distDir = join(stacklensHome(opts), 'dist', `elasticsearch-${ES_VERSION}`);
  if (existsSync(join(distDir, 'bin', 'elasticsearch'))) {
    ensureRootPlugin(distDir, log);
    return distDir;
  }
  log(`Fetching Elasticsearch ${ES_VERSION} from Maven Central (once, ~100 MB) …`);
  const res = spawnSync(
    'mvn',
    ['-q', '-B', '-f', join(REPO_ROOT, 'elasticsearch', 'pom.xml'), 'dependency:unpack', `-Des.unpack.dir=${dirname(distDir)}`],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (res.error) throw new Error(`cannot run Maven (mvn): ${res.error.message}. Install Maven 3 and a JDK 17+.`);
  if (res.status !== 0 || !existsSync(join(distDir, 'bin', 'elasticsearch'))) {
    throw new Error(`Maven could not fetch org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION} (exit ${res.status})`);
  }
  ensureRootPlugin(distDir, log);
  return distDir;
}

function javaHome(): string {
  if (process.env.ES_JAVA_HOME) return process.env.ES_JAVA_HOME;
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, 'bin', 'java'))) return process.env.JAVA_HOME;
  const which = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' });
  const java = which.stdout.trim();
  if (!java) throw new Error('no Java found: install a JDK 17+ or set JAVA_HOME');
  return dirname(dirname(realpathSync(java)));
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Elasticsearch refuses to run as root. When we are root (CI, containers) the server runs as
 * `nobody` through setpriv; its instance directory is handed to that user.
 */
function dropPrivileges(cmd: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [cmd, args];
  return ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', cmd, ...args]];
}

/**
 * Write one node's config directory. `discovery` is what differs between a single node and a
 * node of a local cluster (see cluster.ts).
 */
export function writeInstanceConfig(distDir: string, dir: string, node: { clusterName: string; nodeName: string; port: number; transportPort: number; discovery: string[] }): void {
  const conf = join(dir, 'config');
  for (const sub of ['config', 'data', 'logs', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(join(distDir, 'config', 'log4j2.properties'), join(conf, 'log4j2.properties'));
  writeFileSync(
    join(conf, 'elasticsearch.yml'),
    [
      '# Written by stacklens es start — local Elasticsearch for development, tests and the demo.',
      `cluster.name: ${node.clusterName}`,
      `node.name: ${node.nodeName}`,
      ...node.discovery,
      'network.host: 127.0.0.1',
      `http.port: ${node.port}`,
      `transport.port: ${node.transportPort}`,
      `path.data: ${join(dir, 'data')}`,
      `path.logs: ${join(dir, 'logs')}`,
      '# Local only, bound to loopback. Real deployments keep security on (see collector.yaml: api_key / username / ca_cert).',
      'xpack.security.enabled: false',
      'action.destructive_requires_name: false',
      'cluster.routing.allocation.disk.threshold_enabled: false',
      'http.max_content_length: 200mb',
      '',
    ].join('\n'),
  );
  // Our own jvm.options: the distribution's writes GC logs to a relative path.
  writeFileSync(
    join(conf, 'jvm.options'),
    ['-XX:+UseG1GC', '-Djava.io.tmpdir=${ES_TMPDIR}', '20-:--add-modules=jdk.incubator.vector', '-XX:+ExitOnOutOfMemoryError', `-XX:ErrorFile=${join(dir, 'logs', 'hs_err_pid%p.log')}`, '-Xlog:disable', ''].join('\n'),
  );
  if (isRoot()) spawnSync('chown', ['-R', 'nobody:nogroup', dir]);
}

/**
 * Launch one configured node in the background (`bin/elasticsearch -d`, as `nobody` when we are
 * root) and return once its JVM has started; the caller waits for the health it needs.
 */
export async function launchNode(distDir: string, dir: string, heapMb: number): Promise<void> {
  if (isRoot()) assertReadableByNobody(distDir, dir);
  const [cmd, args] = dropPrivileges(join(distDir, 'bin', 'elasticsearch'), ['-d', '-p', join(dir, 'es.pid')]);
  const child = spawn(cmd, args, {
    cwd: dir,
    env: { ...process.env, ES_PATH_CONF: join(dir, 'config'), ES_TMPDIR: join(dir, 'tmp'), ES_JAVA_HOME: javaHome(), ES_JAVA_OPTS: `-Xms${Math.min(512, heapMb)}m -Xmx${heapMb}m` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exitCode: number = await new Promise((res) => child.on('exit', (code) => res(code ?? 1)));
  if (exitCode !== 0) {
    throw new Error(`Elasticsearch did not start (exit ${exitCode}); see ${join(dir, 'logs')}\n${output.split('\n').slice(-15).join('\n')}`);
  }
}

/** Start Elasticsearch on 127.0.0.1:port (or reuse the one already there) and wait until it is usable. */
export async function startElasticsearch(opts: RunnerOptions = {}): Promise<EsInstance> {
  const log = opts.log ?? defaultLog;
  const port = opts.port ?? DEFAULT_ES_PORT;
  const url = `http://127.0.0.1:${port}`;
  const dir = instanceDir(opts, port);
  if (await probe(url)) {
    const pid = ownedPid(dir);
    return { url, port, dir, pid, reused: true, owned: pid !== undefined };
  }
  const distDir = ensureDistribution(opts);
  writeInstanceConfig(distDir, dir, { clusterName: `stacklens-${port}`, nodeName: 'stacklens-es', port, transportPort: port + 100, discovery: ['discovery.type: single-node'] });
  const heap = Math.min(opts.heapMb ?? 1024, 1024);
  log(`Starting Elasticsearch ${ES_VERSION} on ${url} (heap ${heap} MiB, data in ${join(dir, 'data')}) …`);
  const started = Date.now();
  await launchNode(distDir, dir, heap);
  for (let i = 0; i < 240; i++) {
    const health = await probe(url, '/_cluster/health?wait_for_status=yellow&timeout=1s');
    if (health && (health.status === 'yellow' || health.status === 'green')) {
      log(`Elasticsearch is up on ${url} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { url, port, dir, pid: readPid(dir), reused: false, owned: true };
    }
    await sleep(500);
  }
  throw new Error(`Elasticsearch started but ${url} did not become healthy within 2 minutes; see ${join(dir, 'logs')}`);
}

function assertReadableByNobody(distDir: string, dir: string): void {
  const check = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'test', '-x', join(distDir, 'bin', 'elasticsearch'), '-a', '-w', dir]);
  if (check.status !== 0) {
    throw new Error(
      `Elasticsearch must run as an unprivileged user (it refuses root), but user "nobody" cannot reach ${distDir} or ${dir}. ` +
        'Clone the repository somewhere world-readable or set STACKLENS_HOME to such a directory.',
    );
  }
}

export function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'es.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the Elasticsearch stacklens started for this instance directory, if it still runs. */
export function ownedPid(dir: string): number | undefined {
  const pid = readPid(dir);
  return pid !== undefined && alive(pid) ? pid : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop the Elasticsearch we started on this port (SIGTERM, then SIGKILL after 30 s). */
export async function stopElasticsearch(opts: RunnerOptions = {}): Promise<boolean> {
  return stopNode(instanceDir(opts, opts.port ?? DEFAULT_ES_PORT));
}

/** Stop the node whose pid file is in `dir`; false when none of ours runs there. */
export async function stopNode(dir: string): Promise<boolean> {
  const pid = readPid(dir);
  if (!pid || !alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 60 && alive(pid); i++) await sleep(500);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(join(dir, 'es.pid'), { force: true });
  return true;
}

export interface EsStatus {
  url: string;
  running: boolean;
  health?: string;
  version?: string;
  pid?: number;
  dir: string;
  /** Started by stacklens (stoppable with stacklens es stop, data in `dir`); false for another Elasticsearch on the port. */
  owned: boolean;
}

export async function elasticsearchStatus(opts: RunnerOptions = {}): Promise<EsStatus> {
  const port = opts.port ?? DEFAULT_ES_PORT;
  const url = `http://127.0.0.1:${port}`;
  const dir = instanceDir(opts, port);
  const health = await probe(url);
  if (!health) return { url, running: false, dir, owned: false };
  const nodes = await probe(url, '/_nodes/_local/version');
  const node = nodes && Object.values((nodes.nodes ?? {}) as Record<string, { version?: string }>)[0];
  const pid = ownedPid(dir);
  return { url, running: true, health: String(health.status), version: node?.version, pid, dir, owned: pid !== undefined };
}
