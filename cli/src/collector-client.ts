// How CLI commands reach a collector's API: the URL from --url, $STACKLENS_URL or the CLI's
// config file, the token from --token, $STACKLENS_TOKEN ($STACKLENS_API_TOKEN, the older
// name, is read too) or that file — ~/.config/stacklens/cli.yaml ($XDG_CONFIG_HOME, or
// $STACKLENS_CLI_CONFIG), with `url:` and `token:`.
// Errors say what to change: the URL when nothing answers, the token when it is refused,
// and the collector's own message (which names the parameter) for a bad request.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { request as httpsRequest } from 'node:https';

export const DEFAULT_COLLECTOR_URL = 'http://127.0.0.1:8080';

/** The options text every collector-facing command's --help shares. */
export const COLLECTOR_OPTIONS_HELP = `  --url URL      the collector (default: $STACKLENS_URL, else url: in ~/.config/stacklens/cli.yaml,
                 else ${DEFAULT_COLLECTOR_URL})
  --token TOKEN  an API token (default: $STACKLENS_TOKEN, else token: in that file)`;

export class CollectorError extends Error {}

export interface CollectorTarget {
  url: string;
  token?: string;
  /** Where the URL and the token came from, for messages that say what to change. */
  urlFrom?: string;
  tokenFrom?: string;
}

/** The CLI's config file: where it is, and what it says (undefined when there is none). */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): { path: string; url?: string; token?: string } | undefined {
  const path = env.STACKLENS_CLI_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'stacklens', 'cli.yaml');
  if (!existsSync(path)) {
    // Named on purpose and missing: say so rather than fall back to defaults.
    if (env.STACKLENS_CLI_CONFIG) throw new CollectorError(`$STACKLENS_CLI_CONFIG: ${path} does not exist`);
    return undefined;
  }
  if (statSync(path).isDirectory()) throw new CollectorError(`${path} is a directory; the CLI's config is a YAML file with url: and token:`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CollectorError(`${path}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return { path };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CollectorError(`${path}: expected url: and token: keys`);
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).filter((k) => k !== 'url' && k !== 'token');
  if (unknown.length) throw new CollectorError(`${path}: unknown key ${unknown[0]} (expected url, token)`);
  for (const k of ['url', 'token'] as const) if (d[k] !== undefined && typeof d[k] !== 'string') throw new CollectorError(`${path}: ${k}: must be a string`);
  // A token in a file others can read is a token others have.
  if (d.token !== undefined && (statSync(path).mode & 0o077) !== 0) process.stderr.write(`warning: ${path} holds a token and is readable by others: chmod 600 ${path}\n`);
  return { path, url: d.url as string | undefined, token: d.token as string | undefined };
}

export function collectorTarget(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): CollectorTarget {
  const file = values.url !== undefined && values.token !== undefined ? undefined : cliConfig(env);
  const url = (values.url ?? env.STACKLENS_URL ?? file?.url ?? DEFAULT_COLLECTOR_URL).replace(/\/+$/, '');
  const urlFrom = values.url !== undefined ? '--url' : env.STACKLENS_URL !== undefined ? '$STACKLENS_URL' : file?.url !== undefined ? `url: in ${file.path}` : 'the default URL';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CollectorError(`${urlFrom}: "${url}" is not a URL (e.g. ${DEFAULT_COLLECTOR_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CollectorError(`${urlFrom}: "${url}" must start with http:// or https://`);
  if (parsed.username || parsed.password) throw new CollectorError(`${urlFrom}: put the token in --token or $STACKLENS_TOKEN, not in the URL`);
  const token = values.token ?? env.STACKLENS_TOKEN ?? env.STACKLENS_API_TOKEN ?? file?.token;
  const tokenFrom = values.token !== undefined ? '--token' : env.STACKLENS_TOKEN !== undefined ? '$STACKLENS_TOKEN' : env.STACKLENS_API_TOKEN !== undefined ? '$STACKLENS_API_TOKEN' : file?.token !== undefined ? `token: in ${file.path}` : undefined;
  return { url, token, urlFrom, tokenFrom };
}

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

function pathWithQuery(path: string, query: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

/** A request; resolves with the response (any status) once its headers are in. */
function send(target: CollectorTarget, method: string, path: string, query?: Query, body?: unknown): Promise<IncomingMessage> {
  const url = new URL(pathWithQuery(path, query), `${target.url}/`);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json', ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = request(url, { method, headers }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CollectorError(`cannot reach the collector at ${target.url} (${err.code ?? err.message}); set --url or $STACKLENS_URL`)));
    req.end(payload);
  });
}

/** GET a path; resolves with the response (any status) once its headers are in. */
export function get(target: CollectorTarget, path: string, query?: Query): Promise<IncomingMessage> {
  return send(target, 'GET', path, query);
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The error for a response that is not a success, from the collector's own `error` text. */
export async function refusal(target: CollectorTarget, res: IncomingMessage): Promise<CollectorError> {
  const text = await readBody(res);
  let message: string;
  try {
    message = JSON.parse(text).error ?? text;
  } catch {
    message = text.slice(0, 300);
  }
  const status = res.statusCode ?? 0;
  if (status === 401) return new CollectorError(`the collector at ${target.url} refused the token (401: ${message}); ${target.tokenFrom ? `the token came from ${target.tokenFrom}; ` : ''}set --token or $STACKLENS_TOKEN${target.token ? '' : ' (none is set)'}`);
  if (status === 403) return new CollectorError(`the token may not do this (403: ${message})`);
  const retry = res.headers['retry-after'] ? `; try again in ${res.headers['retry-after']} s` : '';
  return new CollectorError(`the collector answered ${status}: ${message}${retry}`);
}

/** POST a JSON body; the JSON answer, or the collector's refusal. */
export async function postJson<T>(target: CollectorTarget, path: string, body: unknown): Promise<T> {
  const res = await send(target, 'POST', path, undefined, body);
  if (res.statusCode !== 200 && res.statusCode !== 201 && res.statusCode !== 202) throw await refusal(target, res);
  return JSON.parse(await readBody(res)) as T;
}

/** GET a JSON answer, or throw the collector's refusal. */
export async function getJson<T>(target: CollectorTarget, path: string, query?: Query): Promise<T> {
  const res = await get(target, path, query);
  if (res.statusCode !== 200) throw await refusal(target, res);
  return JSON.parse(await readBody(res)) as T;
}
