// Helpers for end-to-end tests: real collector and agent processes (through their CLIs,
// with real config files), a real Elasticsearch, and queries to check what arrived.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { appendFileSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export const REPO = resolve(import.meta.dirname, '..');

export function tempDir(prefix = 'stacklens-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/**
 * Processes (Proc) that exited without being asked to — a crashed collector or agent — in the
 * order they died, until a waitFor reports them. A test waiting on such a process fails at
 * once with its exit code and last log lines, not after the wait's timeout.
 */
const unexpectedExits: { proc: Proc; how: string; closed: Promise<unknown> }[] = [];
const exitListeners = new Set<() => void>();

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  const dead = async () => {
    const exit = unexpectedExits.shift();
    if (!exit) return;
    // Its last words may still be in the pipe.
    await Promise.race([exit.closed, new Promise((r) => setTimeout(r, 1000))]);
    const { proc, how } = exit;
    throw new Error(`${proc.script} (pid ${proc.child.pid}) exited unexpectedly with ${how} while waiting for ${what}; its last log lines:\n${lastLines(proc.output) || '(no output)'}`);
  };
  for (;;) {
    await dead();
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await dead();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    // Sleep until the next probe, or until a process dies.
    await new Promise<void>((r) => {
      const wake = () => {
        clearTimeout(timer);
        exitListeners.delete(wake);
        r();
      };
      const timer = setTimeout(wake, everyMs);
      exitListeners.add(wake);
    });
  }
}

/** The last `n` lines of a process's output. */
export function lastLines(output: string, n = 20): string {
  const lines = output.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/**
 * A running CLI process with its output kept for failure messages. An exit nobody asked for
 * (no signal sent through kill() or child.kill(), other than SIGHUP) makes waitFor fail at
 * once with the exit code and the last 20 log lines.
 */
export class Proc {
  output = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** A signal was sent to stop it: its exit is expected. */
  private stopping = false;
  constructor(
    readonly script: string,
    args: string[],
    env: Record<string, string> = {},
    cwd?: string,
  ) {
    this.child = spawn(process.execPath, [join(REPO, script), ...args], {
      cwd,
      env: { ...process.env, STACKLENS_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    // Tests signal the child directly too (SIGINT, SIGTERM; SIGHUP only reloads).
    const kill = this.child.kill.bind(this.child);
    this.child.kill = (signal?: NodeJS.Signals | number) => {
      if (signal !== 'SIGHUP') this.stopping = true;
      return kill(signal);
    };
    const closed = new Promise((r) => this.child.on('close', r));
    this.exited = new Promise((r) =>
      this.child.on('exit', (code, signal) => {
        if (!this.stopping) {
          unexpectedExits.push({ proc: this, how: code !== null ? `exit code ${code}` : `signal ${signal}`, closed });
          for (const wake of [...exitListeners]) wake();
        }
        r(code);
      }),
    );
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface CollectorHandle {
  url: string;
  port: number;
  token: string;
  configPath: string;
  proc: Proc;
  restart(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** For a collector serving HTTPS: the CA to trust and, for mutual TLS, the client certificate. */
export interface TestTls {
  ca: string;
  cert?: string;
  key?: string;
}

function httpsReady(url: string, tls: TestTls): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(`${url}/readyz`, { ca: tls.ca, cert: tls.cert, key: tls.key }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * `agentTokensYaml`: the collector.yaml `agent_tokens` entry in place of the default
 * `agent_tokens: ["${TEST_AGENT_TOKEN}"]` (the handle's `token` is still in $TEST_AGENT_TOKEN).
 */
export async function startCollector(esUrl: string | string[], opts: { dir?: string; token?: string; port?: number; extra?: string; tls?: TestTls; rulesDir?: string; env?: Record<string, string>; agentTokensYaml?: string } = {}): Promise<CollectorHandle> {
  const dir = opts.dir ?? tempDir('stacklens-collector-');
  const port = opts.port ?? (await freePort());
  const token = opts.token ?? `agent-token-${randomBytes(12).toString('hex')}`;
  const configPath = join(dir, 'collector.yaml');
  writeFileSync(configPath, `listen: 127.0.0.1:${port}\nelasticsearch:\n  ${Array.isArray(esUrl) ? `urls: [${esUrl.join(', ')}]` : `url: ${esUrl}`}\n${(opts.agentTokensYaml ?? 'agent_tokens: ["${TEST_AGENT_TOKEN}"]').trimEnd()}\nrules_dir: ${opts.rulesDir ?? './rules'}\n${opts.extra ?? ''}`);
  const handle: CollectorHandle = {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    token,
    configPath,
    proc: undefined as unknown as Proc,
    async restart() {
      handle.proc = new Proc('collector/dist/cli.js', ['--config', configPath], { TEST_AGENT_TOKEN: token, ...opts.env });
      // A collector that exits while starting (bad config, Elasticsearch refused) fails this at once.
      await waitFor(`collector ready on ${handle.url}`, async () => {
        if (opts.tls) return httpsReady(handle.url, opts.tls);
        const res = await fetch(`${handle.url}/readyz`);
        return res.ok;
      });
    },
    async stop(signal = 'SIGTERM') {
      await handle.proc.kill(signal);
    },
  };
  await handle.restart();
  return handle;
}

export interface AgentHandle {
  dir: string;
  configPath: string;
  proc: Proc;
  restart(): void;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Start an agent whose config file is `yaml` (written to dir/agent.yaml; relative paths resolve there). */
export function startAgent(dir: string, yaml: string, env: Record<string, string> = {}): AgentHandle {
  const configPath = join(dir, 'agent.yaml');
  writeFileSync(configPath, yaml);
  const handle: AgentHandle = {
    dir,
    configPath,
    proc: undefined as unknown as Proc,
    restart() {
      handle.proc = new Proc('agent/dist/cli.js', ['--config', configPath], env);
    },
    async stop(signal = 'SIGTERM') {
      await handle.proc.kill(signal);
    },
  };
  handle.restart();
  return handle;
}

export function esClient(url: string): Client {
  return new Client({ node: url });
}

/** Every document of an index pattern (search_after on @timestamp + log.offset + _id is not allowed: use _doc order of a PIT-less scan). */
export async function allDocs(es: Client, index: string, query: object = { match_all: {} }): Promise<{ _id: string; _source: any }[]> {
  await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const out: { _id: string; _source: any }[] = [];
  let res = await es.search({ index, scroll: '1m', size: 5000, query, sort: ['_doc'], ignore_unavailable: true, allow_no_indices: true });
  while (res.hits.hits.length > 0) {
    for (const h of res.hits.hits) out.push({ _id: h._id!, _source: h._source });
    res = await es.scroll({ scroll_id: res._scroll_id!, scroll: '1m' });
  }
  if (res._scroll_id) await es.clearScroll({ scroll_id: res._scroll_id }).catch(() => undefined);
  return out;
}

export async function count(es: Client, index: string, query: object = { match_all: {} }): Promise<number> {
  await es.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const res = await es.count({ index, query, ignore_unavailable: true, allow_no_indices: true });
  return res.count;
}

/** A namespace no other test uses, so each test has its own data streams. */
export function uniqueNamespace(): string {
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Appends lines to a file and remembers each line's byte offset. */
export class LogWriter {
  readonly lines: { offset: number; text: string }[] = [];
  private size = 0;
  constructor(readonly path: string) {}
  append(lines: string[]): void {
    let chunk = '';
    for (const text of lines) {
      this.lines.push({ offset: this.size, text });
      this.size += Buffer.byteLength(text) + 1;
      chunk += `${text}\n`;
    }
    appendFileSync(this.path, chunk);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts the data streams hold exactly the written lines, each once. */
export async function expectExactlyOnce(es: Client, index: string, writers: LogWriter[]): Promise<{ _id: string; _source: any }[]> {
  const docs = await allDocs(es, index);
  const expected = writers.reduce((n, w) => n + w.lines.length, 0);
  expect(docs.length).toBe(expected);
  expect(new Set(docs.map((d) => d._id)).size).toBe(expected);
  const seen = new Set(docs.map((d) => `${d._source.log.file.path}@${d._source.log.offset}`));
  for (const w of writers) for (const l of w.lines) expect(seen.has(`${w.path}@${l.offset}`)).toBe(true);
  return docs;
}


/** Asserts the index holds exactly these messages, each once. */
export async function expectMessagesOnce(es: Client, index: string, expected: string[]): Promise<{ _id: string; _source: any }[]> {
  const docs = await allDocs(es, index);
  const seen = new Map<string, number>();
  for (const d of docs) seen.set(d._source.message, (seen.get(d._source.message) ?? 0) + 1);
  const missing = expected.filter((m) => !seen.has(m));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([m]) => m);
  const unexpected = [...seen.keys()].filter((m) => !expected.includes(m));
  expect({ missing: missing.slice(0, 5), doubled: doubled.slice(0, 5), unexpected: unexpected.slice(0, 5), total: docs.length }).toEqual({ missing: [], doubled: [], unexpected: [], total: expected.length });
  return docs;
}

/** The agent process's open file descriptors that point at files (not sockets or pipes). */
export function openFiles(pid: number): string[] {
  const fds = readdirSync(`/proc/${pid}/fd`);
  const out: string[] = [];
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('/')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * One collector for a whole test file, and the agents its tests start (killed after each
 * test). Call at the top of a test file; read `.collector` inside tests.
 */
export function useSharedCollector(esUrl: string): { readonly collector: CollectorHandle; agents: AgentHandle[] } {
  const shared = { collector: undefined as unknown as CollectorHandle, agents: [] as AgentHandle[] };
  beforeAll(async () => {
    shared.collector = await startCollector(esUrl);
  });
  afterAll(async () => {
    await shared.collector.stop('SIGKILL');
  });
  afterEach(async () => {
    for (const a of shared.agents.splice(0)) await a.stop('SIGKILL');
  });
  return shared;
}

/**
 * Whether the agent in `dir` has read, and the collector acknowledged, every line of `paths`:
 * its registry (offsets committed only after acks, written every second) holds each file (by
 * path, or by inode if renamed since) at its end (its last complete line; a .gz file in uncompressed bytes).
 * Nothing of those files is in flight then, so what Elasticsearch holds is final: the
 * positive signal to wait for before asserting "nothing more".
 */
export function acknowledged(dir: string, paths: string[]): boolean {
  let files: { path: string; inode?: string; offset: number }[];
  try {
    files = Object.values(JSON.parse(readFileSync(join(dir, 'state', 'registry.json'), 'utf8')).files);
  } catch {
    return false;
  }
  return paths.every((p) => {
    const bytes = p.endsWith('.gz') ? gunzipSync(readFileSync(p)) : readFileSync(p);
    const st = statSync(p);
    return files.some((f) => (resolve(dir, f.path) === p || f.inode === `${st.dev}:${st.ino}`) && f.offset === bytes.lastIndexOf(10) + 1);
  });
}
