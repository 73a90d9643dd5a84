// `stacklens-agent --check [--connect]`: what this configuration would do on this host, now.
// For each input, each glob and the files it matches (those the agent would read, and those
// it would skip: excluded, symbolic links not followed, unreadable, already read by an earlier
// input); the state directory; and with --connect, whether each collector URL answers and
// accepts the token — a POST of an empty batch to /v1/events, which the collector
// authenticates and checks like any other and which indexes nothing. Gathering (inspectInputs,
// probeCollector) is kept apart from the words (formatCheck), so tests read either.
import { access, constants, lstat, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CollectorHttp } from './collector-http.js';
import { EVENTS_PATH, type WireBatch } from '@stacklens/common';
import type { AgentConfig, InputConfig, TlsFiles } from './config.js';
import { excludeMatcher, folderProblem, matchFiles } from './discovery.js';

/** Paths listed per kind before "… and N more". */
export const LISTED = 5;
/** The longest a --connect probe waits for one URL (less when collector.timeout is shorter). */
export const PROBE_TIMEOUT_MS = 10_000;

export interface GlobReport {
  glob: string;
  /** Files the agent would read now. */
  files: string[];
  excluded: string[];
  /** Symbolic links skipped because follow_symlinks is off. */
  symlinks: string[];
  unreadable: { path: string; reason: string }[];
  /** Files an earlier input (by index) matches too: only that one reads them. */
  readByEarlier: { path: string; input: number }[];
  /** Why nothing matched when the glob's folder is the reason (missing, not readable). */
  folderProblem?: string;
}

export interface InputReport {
  index: number;
  dataset: string;
  format: string;
  globs: GlobReport[];
}

export interface CollectorProbe {
  url: string;
  ok: boolean;
  /** HTTP status, when the collector answered. */
  status?: number;
  /** One line for a person: what happened and what to do. */
  summary: string;
  ms: number;
}

/** Whether this process may read a file: undefined when it may, else why not (e.g. "EACCES: permission denied"). */
export type ReadCheck = (path: string) => Promise<string | undefined>;

const canRead: ReadCheck = async (path) => {
  try {
    // access(), not open(): opening a FIFO that matches a glob would block.
    await access(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return errorText(err);
  }
};

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code && e.syscall) return `${e.code}: ${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`;
  return e.message ?? String(err);
}

/** Each input's globs and what they match now, as the agent's discovery sees them. */
export async function inspectInputs(inputs: InputConfig[], read: ReadCheck = canRead): Promise<InputReport[]> {
  const claimed = new Map<string, number>();
  const reports: InputReport[] = [];
  for (const [index, input] of inputs.entries()) {
    const excluded = excludeMatcher(input.exclude ?? []);
    const globs: GlobReport[] = [];
    const mine = new Set<string>();
    for (const pattern of input.paths) {
      const report: GlobReport = { glob: pattern, files: [], excluded: [], symlinks: [], unreadable: [], readByEarlier: [] };
      globs.push(report);
      let paths: string[];
      try {
        paths = (await matchFiles([pattern])).sort();
      } catch (err) {
        report.folderProblem = `cannot scan: ${errorText(err)}`;
        continue;
      }
      if (paths.length === 0) report.folderProblem = await folderProblem(pattern);
      for (const path of paths) {
        if (excluded(path)) {
          report.excluded.push(path);
          continue;
        }
        const earlier = claimed.get(path);
        if (earlier !== undefined && earlier !== index) {
          report.readByEarlier.push({ path, input: earlier });
          continue;
        }
        try {
          if (!input.follow_symlinks && (await lstat(path)).isSymbolicLink()) {
            report.symlinks.push(path);
            continue;
          }
        } catch {
          continue; // gone between glob and lstat
        }
        const why = await read(path);
        if (why) report.unreadable.push({ path, reason: why });
        else report.files.push(path);
        mine.add(path);
      }
    }
    for (const path of mine) if (!claimed.has(path)) claimed.set(path, index);
    reports.push({ index, dataset: input.dataset, format: input.format, globs });
  }
  return reports;
}

/** Where state_dir stands: undefined when it exists and is writable. Never a failure: the agent (or systemd's StateDirectory=) creates it. */
export async function stateDirNote(dir: string): Promise<string> {
  try {
    if (!(await stat(dir)).isDirectory()) return `${dir} is not a folder: the agent cannot start`;
    await access(dir, constants.W_OK | constants.X_OK);
    return `${dir}: writable`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${dir}: does not exist yet (the agent creates it; under systemd, StateDirectory= does)`;
    if (code === 'EACCES') return `${dir}: not writable by this user`;
    return `${dir}: ${errorText(err)}`;
  }
}

/**
 * Ask one collector URL whether it would take this agent's batches: an empty batch, sent
 * as the agent sends (same token, agent id, TLS files). 200 means reachable, token valid
 * and the agent id allowed; nothing is indexed.
 */
export async function probeCollector(
  url: string,
  opts: { token: string; agentId: string; version: string; tls?: TlsFiles; timeoutMs: number },
): Promise<CollectorProbe> {
  const started = performance.now();
  const http = new CollectorHttp(opts.tls);
  const body: WireBatch = { agent: { id: opts.agentId, hostname: hostname(), version: opts.version }, events: [] };
  const done = (ok: boolean, summary: string, status?: number): CollectorProbe => ({ url, ok, status, summary, ms: Math.round(performance.now() - started) });
  try {
    const res = await http.post(
      url + EVENTS_PATH,
      JSON.stringify(body),
      { 'content-type': 'application/json', authorization: `Bearer ${opts.token}`, 'x-request-id': `${opts.agentId}-check`.slice(0, 100) },
      AbortSignal.timeout(opts.timeoutMs),
    );
    const text = res.text.slice(0, 300);
    const reason = errorField(text);
    if (res.status >= 200 && res.status < 300) return done(true, `answers, token accepted (${res.status})`, res.status);
    if (res.status === 401) return done(false, `token refused (401): collector.token must be one of the collector's agent_tokens${reason ? ` — ${reason}` : ''}`, 401);
    if (res.status === 403) return done(false, `token accepted, but this agent is refused (403)${reason ? `: ${reason}` : ''}`, 403);
    if (res.status === 503) return done(false, `answers, token accepted, but cannot index now (503)${reason ? `: ${reason}` : ''}; the agent would keep its lines and retry`, 503);
    if (res.status === 429) return done(false, `answers, but asks to slow down (429: its ingest rate limit)`, 429);
    if (res.status >= 300 && res.status < 400) return done(false, `redirects (${res.status}) to ${res.headers.location ?? '?'}: give the agent the final URL`, res.status);
    if (res.status === 404) return done(false, `answers 404 on ${EVENTS_PATH}: is this a StackLens collector?`, 404);
    return done(false, `answered ${res.status}${reason ? `: ${reason}` : text ? `: ${text}` : ''}`, res.status);
  } catch (err) {
    return done(false, `does not answer: ${fetchFailure(err, opts.timeoutMs)}`);
  } finally {
    http.close();
  }
}

function errorField(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** Why a request got no answer: connection refused, unknown host, TLS, timeout. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  // node:http reports the socket's error itself (code on it); a wrapped one carries it as cause.
  const cause = e.cause ?? e;
  if (cause.code === 'ECONNREFUSED') return `connection refused (${cause.message.replace(/^connect ECONNREFUSED /, '')}): is the collector running and listening there?`;
  if (cause.code === 'ENOTFOUND' || cause.code === 'EAI_AGAIN') return `host name not found (${cause.code})`;
  if (cause.code?.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(cause.message)) return `TLS: ${cause.message}${cause.code ? ` (${cause.code})` : ''}: check collector.tls`;
  return cause.code ? `${cause.code}: ${cause.message}` : cause.message;
}

/** The human report. */
export function formatCheck(inputs: InputReport[], state: string, probes: CollectorProbe[] | undefined, urls: string[], asRoot = false): string {
  const out: string[] = [];
  for (const input of inputs) {
    out.push(`input ${input.index + 1} (dataset ${input.dataset}, format ${input.format}):`);
    for (const g of input.globs) {
      const n = g.files.length;
      out.push(`  ${g.glob}: ${n === 0 ? 'no file to read now' : `${n} file${n === 1 ? '' : 's'} to read`}${g.folderProblem ? ` (${g.folderProblem})` : ''}`);
      out.push(...listed(g.files, (p) => p, '    '));
      const skipped: [string, string[]][] = [
        ['excluded (exclude globs)', g.excluded],
        ['symbolic link not followed (set follow_symlinks: true to read it)', g.symlinks],
        ['unreadable', g.unreadable.map((u) => `${u.path} (${u.reason})`)],
        ['read by an earlier input only', g.readByEarlier.map((r) => `${r.path} (input ${r.input + 1})`)],
      ];
      for (const [what, items] of skipped) {
        if (items.length === 0) continue;
        out.push(`    skipped, ${what}: ${items.length}`);
        out.push(...listed(items, (p) => p, '      '));
      }
    }
  }
  out.push(`state_dir ${state}`);
  if (asRoot) out.push('note: running as root, so every file looks readable; run the check as the user the agent runs as');
  if (!probes) {
    out.push(`collector ${urls.join(', ')}: not contacted (add --connect to check it answers and accepts the token)`);
  } else {
    for (const p of probes) out.push(`collector ${p.url}: ${p.ok ? 'OK' : 'FAILED'}, ${p.summary} (${p.ms} ms)`);
  }
  return `${out.join('\n')}\n`;
}

function listed<T>(items: T[], show: (t: T) => string, indent: string): string[] {
  const lines = items.slice(0, LISTED).map((t) => indent + show(t));
  if (items.length > LISTED) lines.push(`${indent}… and ${items.length - LISTED} more`);
  return lines;
}

/**
 * The whole check: prints the report through `write`, returns the exit code — 1 when
 * --connect found a collector URL that does not answer or refuses the token, else 0
 * (a glob matching nothing now is reported, not a failure: files may come later).
 */
export async function runCheck(config: AgentConfig, opts: { connect: boolean; version: string; write: (text: string) => void; read?: ReadCheck }): Promise<number> {
  const inputs = await inspectInputs(config.inputs, opts.read);
  const state = await stateDirNote(config.state_dir);
  const probes = opts.connect
    ? await Promise.all(
        config.collector.urls.map((url) =>
          probeCollector(url, { token: config.collector.token, agentId: config.id, version: opts.version, tls: config.collector.tls, timeoutMs: Math.min(config.collector.timeout, PROBE_TIMEOUT_MS) }),
        ),
      )
    : undefined;
  opts.write(formatCheck(inputs, state, probes, config.collector.urls, process.getuid?.() === 0));
  return probes?.some((p) => !p.ok) ? 1 : 0;
}
