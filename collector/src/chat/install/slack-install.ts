// Installing the Slack app in a workspace ("Add to Slack", OAuth 2.0 v2 flow):
//   GET /slack/install         → 302 to Slack's authorize page, with the app's client id, its
//                                 scopes, the redirect URL and a `state`;
//   GET /slack/oauth/callback  ← Slack sends the browser back with ?code&state (or ?error);
//                                 the code is exchanged through oauth.v2.access
//                                 (@slack/web-api) for the workspace's bot token, which is
//                                 sealed and stored (slack-installations.ts); a page says so.
// The state (CSRF) is signed with the app's client secret, carries a random nonce and its
// time, is valid for 5 minutes, is bound to the browser that started (a cookie holds the
// nonce) and is single-use across every collector (the nonce is claimed in Elasticsearch like
// a Slack request signature). Every install, refusal and uninstall is in the audit trail.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { WebClient } from '@slack/web-api';
import type { Logger } from '@stacklens/common';
import type { AuditLog } from '../../security/audit.js';
import type { SlackReplayGuard } from '../ops/replay-guard.js';
import { SLACK_MAX_AGE_SECONDS } from '../ops/slack-signature.js';
import type { SlackInstallations } from './slack-installations.js';

/** The bot scopes an install asks for by default: post and update alerts, read channels for ChatOps and message search. */
export const DEFAULT_INSTALL_SCOPES = ['chat:write', 'commands', 'channels:read', 'channels:history', 'groups:read', 'groups:history', 'users:read', 'reactions:read'];
const STATE_COOKIE = 'stacklens_slack_oauth_state';

export interface SlackAppSettings {
  client_id?: string;
  client_secret?: string;
  install_redirect_url?: string;
  authorize_url: string;
  install_scopes: string[];
  allowed_workspaces?: string[];
  api_url: string;
  timeout?: number;
}

export interface SlackInstallDeps {
  /** The Slack integration's current settings (undefined when Slack is not configured). */
  slack: () => SlackAppSettings | undefined;
  /** Undefined, or why installations cannot be stored (no STACKLENS_SECRET_KEY). */
  installations: SlackInstallations | string;
  replay: SlackReplayGuard;
  /** Re-read the integrations (the new workspace's client is built). */
  changed: () => Promise<void>;
  audit?: AuditLog;
  log: Logger;
  now?: () => number;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(`stacklens-slack-oauth-state:${payload}`).digest('base64url');

/** A state for a new install: the signed payload, and the nonce the browser's cookie keeps. */
export function makeState(secret: string, now: number): { state: string; nonce: string } {
  const nonce = randomBytes(16).toString('base64url');
  const payload = b64(JSON.stringify({ n: nonce, t: Math.floor(now / 1000) }));
  return { state: `${payload}.${sign(secret, payload)}`, nonce };
}

/** The state's nonce and time, or why it is refused (forged, altered, expired). */
export function checkState(secret: string, state: string, now: number): { nonce: string; t: number } | { refused: string } {
  const [payload, mac, extra] = state.split('.');
  if (!payload || !mac || extra !== undefined || state.length > 500) return { refused: 'state: not a state this app issued' };
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { refused: 'state: the signature does not match (forged or altered)' };
  let parsed: { n?: unknown; t?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { refused: 'state: not a state this app issued' };
  }
  if (typeof parsed.n !== 'string' || typeof parsed.t !== 'number') return { refused: 'state: not a state this app issued' };
  const age = Math.floor(now / 1000) - parsed.t;
  if (age > SLACK_MAX_AGE_SECONDS || age < -60) return { refused: `state: expired (an install must be finished within ${SLACK_MAX_AGE_SECONDS / 60} minutes of starting it); start again at /slack/install` };
  return { nonce: parsed.n, t: parsed.t };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const page = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createSlackInstallRoutes(deps: SlackInstallDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const audit = (req: Request, res: Response, action: string, outcome: 'success' | 'failure', reason?: string, target?: string) =>
    deps.audit?.record({ action, category: 'integration', outcome, reason, target, via: 'slack', source: req.socket.remoteAddress, requestId: res.locals.requestId, method: req.method, path: req.originalUrl.split('?')[0] });
  const refuse = (req: Request, res: Response, status: number, reason: string) => {
    audit(req, res, 'slack.install', 'failure', reason);
    deps.log.warn({ reason }, 'Slack install refused');
    res.status(status).type('html').send(page('StackLens was not installed', reason));
  };
  /** The app's OAuth settings, or the reason the install cannot happen. */
  const app = (): SlackAppSettings | string => {
    const s = deps.slack();
    if (!s?.client_id || !s.client_secret || !s.install_redirect_url) return 'Slack app installation is not configured (integrations.slack.client_id, client_secret and install_redirect_url)';
    if (typeof deps.installations === 'string') return `Slack app installation cannot store workspaces: ${deps.installations}`;
    return s;
  };

  router.get('/slack/install', (req, res) => {
    const s = app();
    if (typeof s === 'string') return void res.status(404).type('html').send(page('Slack app installation is not available', s));
    const { state, nonce } = makeState(s.client_secret!, now());
    const to = new URL(s.authorize_url);
    to.searchParams.set('client_id', s.client_id!);
    to.searchParams.set('scope', s.install_scopes.join(','));
    to.searchParams.set('redirect_uri', s.install_redirect_url!);
    to.searchParams.set('state', state);
    const secure = new URL(s.install_redirect_url!).protocol === 'https:' ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${STATE_COOKIE}=${nonce}; Path=/slack/oauth; Max-Age=${SLACK_MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${secure}`);
    res.setHeader('Cache-Control', 'no-store');
    audit(req, res, 'slack.install.start', 'success');
    res.redirect(302, to.toString());
  });

  router.get('/slack/oauth/callback', async (req, res) => {
    const s = app();
    if (typeof s === 'string') return void res.status(404).type('html').send(page('Slack app installation is not available', s));
    res.setHeader('Cache-Control', 'no-store');
    // The cookie has done its job whatever happens next.
    res.setHeader('Set-Cookie', `${STATE_COOKIE}=; Path=/slack/oauth; Max-Age=0; HttpOnly; SameSite=Lax`);
    const q = req.query as Record<string, unknown>;
    const state = typeof q.state === 'string' ? q.state : '';
    if (!state) return refuse(req, res, 400, 'state: missing (start the install at /slack/install)');
    const checked = checkState(s.client_secret!, state, now());
    if ('refused' in checked) return refuse(req, res, 400, checked.refused);
    const held = cookie(req, STATE_COOKIE);
    if (!held || held.length !== checked.nonce.length || !timingSafeEqual(Buffer.from(held), Buffer.from(checked.nonce))) {
      return refuse(req, res, 400, 'state: not started in this browser (the install must be finished in the browser that opened /slack/install)');
    }
    try {
      if ((await deps.replay.claim(`slack-oauth-state:${checked.nonce}`, checked.t)) === 'replayed') return refuse(req, res, 400, 'state: already used (each install link works once); start again at /slack/install');
    } catch (err) {
      return refuse(req, res, 503, `could not check the state (Elasticsearch: ${(err as Error).message}); try again`);
    }
    if (typeof q.error === 'string') return refuse(req, res, 400, `Slack answered ${q.error.slice(0, 100)} (the install was cancelled or not allowed)`);
    const code = typeof q.code === 'string' ? q.code : '';
    if (!code || code.length > 500) return refuse(req, res, 400, 'code: missing');
    let access: any;
    try {
      access = await new WebClient(undefined, { slackApiUrl: s.api_url, retryConfig: { retries: 1 }, timeout: s.timeout ?? 10_000 }).oauth.v2.access({ client_id: s.client_id!, client_secret: s.client_secret!, code, redirect_uri: s.install_redirect_url });
    } catch (err) {
      // The Web API's error code (invalid_code, bad_client_secret …), never the request (it holds the secret).
      const why = (err as { data?: { error?: string } }).data?.error ?? (err as { code?: string }).code ?? 'unreachable';
      return refuse(req, res, 502, `Slack did not exchange the code: ${why}`);
    }
    const team = access?.team;
    if (!access?.ok || typeof access.access_token !== 'string' || typeof team?.id !== 'string') return refuse(req, res, 502, 'Slack answered oauth.v2.access without a bot token and workspace');
    if (s.allowed_workspaces?.length && !s.allowed_workspaces.includes(team.id)) return refuse(req, res, 403, `workspace ${team.id} is not in integrations.slack.allowed_workspaces`);
    await (deps.installations as SlackInstallations).save({ team_id: team.id, team_name: String(team.name ?? team.id), bot_user_id: access.bot_user_id, scope: access.scope, installed_by: access.authed_user?.id, installed_at: new Date(now()).toISOString() }, access.access_token);
    audit(req, res, 'slack.install', 'success', undefined, team.id);
    deps.log.info({ team: team.id }, 'Slack app installed in a workspace');
    await deps.changed().catch(() => undefined);
    res.status(200).type('html').send(page('StackLens is installed', `StackLens can now post alerts and answer /stacklens in ${String(team.name ?? team.id)}. Route a team to it with chat.teams.<team>.slack.workspace: ${team.id}.`));
  });
  return router;
}

/** Slack's app_uninstalled and tokens_revoked events: the workspace's installation is removed. True when the event was one of them. */
export async function handleUninstall(envelope: any, installations: SlackInstallations | string, changed: () => Promise<void>, audit: ((team: string, action: string) => void) | undefined): Promise<boolean> {
  const type = envelope?.event?.type;
  if (type !== 'app_uninstalled' && type !== 'tokens_revoked') return false;
  // tokens_revoked for user tokens only leaves the bot in place.
  if (type === 'tokens_revoked' && !(Array.isArray(envelope.event?.tokens?.bot) && envelope.event.tokens.bot.length > 0)) return true;
  const team = typeof envelope.team_id === 'string' ? envelope.team_id : undefined;
  if (!team || typeof installations === 'string') return true;
  if (await installations.remove(team)) {
    audit?.(team, type === 'app_uninstalled' ? 'slack.uninstall' : 'slack.tokens_revoked');
    await changed().catch(() => undefined);
  }
  return true;
}
