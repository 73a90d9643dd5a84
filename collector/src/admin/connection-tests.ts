// "Test connection" of the integrations API: one cheap authenticated call per service, with
// the integration's full settings; the answer says who we are connected as.
//
// What a test reports is shown to admins and stored in last_test, so it must not become a
// way to read what an address answers (an internal service, an attacker's echo of our
// request): a failure is our own words only — "HTTP 401 from Jira", "connection refused",
// "timeout after 10 s" — built from a status code or an error code, never from the remote
// body or a library's message about it. A success names the identity the service gave
// (user, team, organisation, version), each value shape-checked and short. Every message is
// capped, and scrubbed of the integration's secrets and of URL credentials. What each type
// calls is its descriptor's test() (integrations/descriptors/<type>.ts).
import OpenAI from 'openai';
import { integration } from '../integrations/descriptors/index.js';

const MAX_MESSAGE = 200;
/** A whole test (Jira and Mattermost make two calls) never holds the admin request longer. */
const TEST_DEADLINE_MS = 30_000;

/** Connection test of one integration, with its full settings: a short message, or an Error with a short reason. */
export async function testIntegration(type: string, settings: Record<string, unknown>): Promise<string> {
  const descriptor = integration(type);
  if (!descriptor) throw new Error(`no connection test for ${type}`);
  const service = descriptor.service;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestTimeout(TEST_DEADLINE_MS)), TEST_DEADLINE_MS);
  });
  try {
    return safeMessage(await Promise.race([descriptor.test(settings), deadline]), type, settings);
  } catch (err) {
    throw new Error(safeMessage(failureReason(service, err, descriptor.testTimeoutMs ?? (typeof settings.timeout === 'number' ? settings.timeout : undefined)), type, settings));
  } finally {
    clearTimeout(timer);
  }
}

class TestTimeout extends Error {
  constructor(readonly ms: number) {
    super('timeout');
  }
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'TLS certificate refused',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate refused',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate refused',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate refused',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate refused',
  EPROTO: 'TLS handshake failed',
};
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Slack answers 200 with an error code: the ones that say something, in our words (any other is just "refused"). */
const SLACK_ERRORS: Record<string, string> = {
  invalid_auth: 'token refused (invalid_auth)',
  not_authed: 'no token sent (not_authed)',
  account_inactive: 'token of a deactivated account (account_inactive)',
  token_revoked: 'token revoked (token_revoked)',
  token_expired: 'token expired (token_expired)',
  missing_scope: 'token lacks a scope (missing_scope)',
  ratelimited: 'rate-limited (ratelimited)',
};

/**
 * Why a test failed, in our words: from status codes and error codes found on the error and
 * its causes, and from the fixed prefixes of our own clients' messages (jira.ts, xero.ts) —
 * never from the text after them, which may quote the remote body.
 */
export function failureReason(service: string, err: unknown, timeoutMs?: number): string {
  const timeout = (ms = timeoutMs) => (ms ? `timeout after ${Math.round(ms / 1000)} s` : 'timeout');
  const chain: any[] = [];
  for (let e: any = err, i = 0; e != null && i < 6; i++) {
    // xero-node rejects with a JSON string of the response: its status is all we read.
    if (typeof e === 'string') {
      try {
        e = JSON.parse(e);
      } catch {
        break;
      }
    }
    chain.push(e);
    e = e?.cause ?? e?.original;
  }
  for (const e of chain) {
    if (e instanceof TestTimeout) return timeout(e.ms);
    const message = typeof e?.message === 'string' ? e.message : '';
    const status = [e?.status, e?.statusCode, e?.status_code, e?.response?.status, e?.response?.statusCode, /^Jira refused the request \((\d{3})\)/.exec(message)?.[1], /^Jira (\d{3}):/.exec(message)?.[1], /^Xero token request answered (\d{3})$/.exec(message)?.[1]]
      .map(Number)
      .find((n) => Number.isInteger(n) && n >= 100 && n <= 599);
    if (status) return `HTTP ${status} from ${service}${HINT[status] ?? (status >= 500 ? ' (server error)' : '')}`;
    if (e?.code === 'slack_webapi_platform_error') return `${service} refused the call: ${SLACK_ERRORS[e?.data?.error] ?? 'not ok'}`;
    if (e?.code === 'slack_webapi_rate_limited_error') return `HTTP 429 from ${service} (rate-limited)`;
    const code = typeof e?.code === 'string' ? e.code : typeof e?.errno === 'string' ? e.errno : '';
    if (TIMEOUT_CODES.has(code) || e?.name === 'TimeoutError' || e instanceof OpenAI.APIConnectionTimeoutError) return timeout();
    if (NETWORK[code]) return NETWORK[code];
    // Codes and timeouts as our clients word them in a message (jira.ts keeps no cause).
    if (/^(Jira unreachable|Xero timed out|LLM timed out)|timeout of \d+ms exceeded/.test(message)) {
      const named = /\b(E[A-Z]+|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1];
      if (named && NETWORK[named]) return NETWORK[named];
      if (/timed out|timeout/i.test(message) || (named && TIMEOUT_CODES.has(named))) return timeout();
    }
  }
  for (const e of chain) {
    const named = /\b(E[A-Z]+|UND_ERR_[A-Z_]+)\b/.exec(typeof e?.message === 'string' ? e.message : '')?.[1];
    if (named && NETWORK[named]) return NETWORK[named];
    if (named && TIMEOUT_CODES.has(named)) return timeout();
  }
  if (chain.some((e) => e instanceof SyntaxError || /invalid response|not JSON|Unexpected token/i.test(String(e?.message ?? '')))) return `${service} answered something that is not its API`;
  // Mattermost's client keeps no HTTP status when the body has none (an HTML error page).
  if (chain.some((e) => e !== null && typeof e === 'object' && 'server_error_id' in e)) return `${service} answered an error without a status code`;
  return `${service} unreachable`;
}

const HINT: Record<number, string> = {
  400: ' (request refused)',
  401: ' (credentials refused)',
  403: ' (forbidden: credentials or permissions)',
  404: ' (not found: check the URL)',
  429: ' (rate-limited)',
};

/** Capped, without any secret of the settings, and without credentials in a URL. */
export function safeMessage(message: string, type: string, settings: Record<string, unknown>): string {
  let out = message.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
  const secrets = (integration(type)?.secretKeys ?? []).flatMap((key) => strings(settings[key]));
  for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE - 1)}…` : out;
}

/** The strings of a secret setting (Slack's workspaces hold theirs nested). */
const strings = (v: unknown): string[] => (typeof v === 'string' ? (v ? [v] : []) : v !== null && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
