// How CLI commands reach a collector's API: the URL from --url or $STACKLENS_URL, the token
// from --token or $STACKLENS_TOKEN ($STACKLENS_API_TOKEN, the older name, is read too).
// Errors say what to change: the URL when nothing answers, the token when it is refused,
// and the collector's own message (which names the parameter) for a bad request.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const DEFAULT_COLLECTOR_URL = 'http://127.0.0.1:8080';

/** The options text every collector-facing command's --help shares. */
export const COLLECTOR_OPTIONS_HELP = `  --url URL      the collector (default: $STACKLENS_URL, else ${DEFAULT_COLLECTOR_URL})
  --token TOKEN  an API token (default: $STACKLENS_TOKEN)`;

export class CollectorError extends Error {}

export interface CollectorTarget {
  url: string;
  token?: string;
}

export function collectorTarget(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): CollectorTarget {
  const url = (values.url ?? env.STACKLENS_URL ?? DEFAULT_COLLECTOR_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CollectorError(`--url: "${url}" is not a URL (e.g. ${DEFAULT_COLLECTOR_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CollectorError(`--url: "${url}" must start with http:// or https://`);
  if (parsed.username || parsed.password) throw new CollectorError('--url: put the token in --token or $STACKLENS_TOKEN, not in the URL');
  return { url, token: values.token ?? env.STACKLENS_TOKEN ?? env.STACKLENS_API_TOKEN };
}

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | undefined>;

function pathWithQuery(path: string, query: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

/** GET a path; resolves with the response (any status) once its headers are in. */
export function get(target: CollectorTarget, path: string, query?: Query): Promise<IncomingMessage> {
  const url = new URL(pathWithQuery(path, query), `${target.url}/`);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers: { accept: 'application/json', ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) } }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CollectorError(`cannot reach the collector at ${target.url} (${err.code ?? err.message}); set --url or $STACKLENS_URL`)));
    req.end();
  });
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
  if (status === 401) return new CollectorError(`the collector at ${target.url} refused the token (401: ${message}); set --token or $STACKLENS_TOKEN${target.token ? '' : ' (none is set)'}`);
  if (status === 403) return new CollectorError(`the token may not do this (403: ${message})`);
  const retry = res.headers['retry-after'] ? `; try again in ${res.headers['retry-after']} s` : '';
  return new CollectorError(`the collector answered ${status}: ${message}${retry}`);
}

/** GET a JSON answer, or throw the collector's refusal. */
export async function getJson<T>(target: CollectorTarget, path: string, query?: Query): Promise<T> {
  const res = await get(target, path, query);
  if (res.statusCode !== 200) throw await refusal(target, res);
  return JSON.parse(await readBody(res)) as T;
}
