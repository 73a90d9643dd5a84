// A local server speaking the parts of the Slack platform StackLens uses, as documented:
// the Web API (POST /api/<method>, form-encoded arguments with JSON-encoded objects,
// `Authorization: Bearer xoxb-…`, always HTTP 200 with {ok, error} — except rate limits:
// HTTP 429 with Retry-After), chat.postMessage/update with Block Kit and message metadata,
// conversations.history/list/info, users.info, auth.test; response_url endpoints that record
// follow-ups; and the sending side of the Events API and slash commands: signed requests
// (v0 HMAC-SHA256) delivered to an app, with Slack's retries (X-Slack-Retry-Num). `faults`
// fails chosen requests (see faults.ts).
import express from 'express';
import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Faults, truncatedJson } from './faults.js';

export interface FakeSlackMessage {
  /** The workspace (team id) whose bot token posted it. */
  team?: string;
  ts: string;
  channel: string;
  text: string;
  blocks?: any[];
  metadata?: any;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  edited?: { ts: string };
  updates: number;
  /** performance.now() when it was posted (for latency measurements). */
  postedAt?: number;
}

/** The signature Slack puts on a request: v0=hex(HMAC-SHA256(secret, "v0:ts:body")). */
export function slackSign(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export class FakeSlack {
  readonly messages: FakeSlackMessage[] = [];
  readonly channels = new Map<string, string>(); // id → name
  readonly users = new Map<string, string>(); // id → name
  readonly calls: { method: string; ok: boolean; status: number }[] = [];
  /** Bodies POSTed to response_url, by the path's id. */
  readonly responses: { id: string; body: any }[] = [];
  /** Answer the next N Web API calls with 429 and this Retry-After (seconds). */
  rateLimit = { remaining: 0, retryAfter: 1 };
  /** 'up' or 'down' (HTTP 503 on every Web API call). */
  mode: 'up' | 'down' = 'up';
  /**
   * Fault injection (see faults.ts). Slack answers an authentication failure with HTTP 200
   * {ok: false, error: "invalid_auth"}, as its Web API documents.
   */
  readonly faults = new Faults('slack', {
    unavailable: (res) => void res.status(503).json({ ok: false, error: 'service_unavailable' }),
    rateLimited: (res) => void res.status(429).set('Retry-After', '1').json({ ok: false, error: 'ratelimited' }),
    unauthorized: (res) => void res.status(200).json({ ok: false, error: 'invalid_auth' }),
    malformed: (res) => truncatedJson(res, { ok: true, channel: 'C0ONCALL01', ts: '1700000000.000001', message: { type: 'message', text: 'cut short' } }, 'application/json; charset=utf-8'),
  });
  url = '';
  private server?: Server;
  private seq = 0;

  /** Bot token → workspace: an app installed in several workspaces has a token in each. */
  readonly workspaces = new Map<string, string>();

  /**
   * OAuth 2.0 (Slack's "Add to Slack" v2 flow): the apps that may ask (client id → secret and
   * redirect URLs), and what the user at the authorize page does next — install into a
   * workspace (team id and name), or deny.
   */
  readonly oauthApps = new Map<string, { secret: string; redirectUris: string[] }>();
  nextInstall: { team: string; teamName: string } | 'deny' = { team: 'T0SECONDWS', teamName: 'Second Workspace' };
  /** Codes handed out by the authorize page: single use, 10 minutes. */
  private readonly codes = new Map<string, { clientId: string; redirectUri: string; team: string; teamName: string; scope: string; expires: number }>();
  /** Bot tokens issued by oauth.v2.access, by workspace. */
  readonly installed = new Map<string, string>();

  constructor(
    readonly botToken: string,
    readonly teamId = 'T0STACKLNS',
  ) {
    this.workspaces.set(botToken, teamId);
    this.addChannel('C0ONCALL01', 'oncall');
    this.users.set('UBOT000001', 'stacklens');
  }

  addChannel(id: string, name: string): void {
    this.channels.set(id, name);
  }

  /** A unique, increasing message timestamp ("seconds.micros"), as Slack gives. */
  nextTs(): string {
    this.seq++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
  }

  /** Top-level messages (not thread replies) in a channel id. */
  posts(channel = 'C0ONCALL01'): FakeSlackMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.thread_ts);
  }

  replies(ts: string): FakeSlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === ts);
  }

  async start(port = 0): Promise<string> {
    const app = express();
    app.use(express.urlencoded({ extended: false, limit: '2mb' }));
    app.use(express.json({ limit: '2mb' }));
    app.use('/api/:method', (req, res, next) => {
      // Every Web API call, answered by the method or by a fault.
      res.on('finish', () => this.calls.push({ method: String(req.params.method), ok: res.locals.ok === true, status: res.statusCode }));
      next();
    });
    app.use(this.faults.middleware());
    // The page a browser is sent to by "Add to Slack": the user (as set in nextInstall) approves or
    // denies, and is redirected back to the app with a code, or an error, and the app's state.
    app.get('/oauth/v2/authorize', (req, res) => {
      const q = req.query as Record<string, string>;
      const oauthApp = this.oauthApps.get(q.client_id ?? '');
      if (!oauthApp) return void res.status(400).send('invalid_client_id');
      const redirectUri = q.redirect_uri ?? oauthApp.redirectUris[0];
      if (!oauthApp.redirectUris.includes(redirectUri)) return void res.status(400).send('bad_redirect_uri');
      const back = new URL(redirectUri);
      if (q.state !== undefined) back.searchParams.set('state', q.state);
      if (this.nextInstall === 'deny') {
        back.searchParams.set('error', 'access_denied');
        return void res.redirect(302, back.toString());
      }
      const code = `${Date.now()}.${randomBytes(12).toString('hex')}`;
      this.codes.set(code, { clientId: q.client_id, redirectUri, team: this.nextInstall.team, teamName: this.nextInstall.teamName, scope: q.scope ?? '', expires: Date.now() + 600_000 });
      back.searchParams.set('code', code);
      res.redirect(302, back.toString());
    });
    app.post('/response/:id', (req, res) => {
      this.responses.push({ id: String(req.params.id), body: req.body });
      res.send('ok');
    });
    app.post('/api/:method', (req, res) => {
      const method = String(req.params.method);
      const reply = (status: number, body: any) => {
        res.locals.ok = Boolean(body?.ok);
        res.status(status).json(body);
      };
      if (this.mode === 'down') return reply(503, { ok: false, error: 'service_unavailable' });
      if (this.rateLimit.remaining > 0) {
        this.rateLimit.remaining--;
        res.setHeader('Retry-After', String(this.rateLimit.retryAfter));
        return reply(429, { ok: false, error: 'ratelimited' });
      }
      // oauth.v2.access authenticates the app (client id and secret, HTTP Basic or form fields), not a token.
      if (method === 'oauth.v2.access') return reply(200, this.oauthAccess(req.headers.authorization, decodeArgs(req.body ?? {})));
      const auth = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (req.body?.token as string | undefined);
      if (!auth) return reply(200, { ok: false, error: 'not_authed' });
      const team = this.workspaces.get(auth);
      if (!team) return reply(200, { ok: false, error: 'invalid_auth' });
      const args = decodeArgs(req.body ?? {});
      try {
        reply(200, { ok: true, ...this.call(method, args, team) });
      } catch (err) {
        reply(200, { ok: false, error: (err as Error).message });
      }
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    return this.url;
  }

  private oauthAccess(authorization: string | undefined, a: Record<string, any>): Record<string, unknown> {
    let clientId = a.client_id;
    let clientSecret = a.client_secret;
    const basic = /^Basic\s+(\S+)$/.exec(authorization ?? '')?.[1];
    if (basic) [clientId, clientSecret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    const oauthApp = this.oauthApps.get(clientId ?? '');
    if (!oauthApp) return { ok: false, error: 'invalid_client_id' };
    if (oauthApp.secret !== clientSecret) return { ok: false, error: 'bad_client_secret' };
    const grant = this.codes.get(a.code ?? '');
    if (!grant || grant.expires < Date.now() || grant.clientId !== clientId) return { ok: false, error: 'invalid_code' };
    this.codes.delete(a.code);
    if (a.redirect_uri !== undefined && a.redirect_uri !== grant.redirectUri) return { ok: false, error: 'bad_redirect_uri' };
    const token = `xoxb-${grant.team}-${randomBytes(12).toString('hex')}`;
    this.workspaces.set(token, grant.team);
    this.installed.set(grant.team, token);
    return { ok: true, app_id: 'A0STACKLNS', authed_user: { id: 'U0ADMIN001' }, scope: grant.scope, token_type: 'bot', access_token: token, bot_user_id: 'UBOT000001', team: { id: grant.team, name: grant.teamName }, enterprise: null, is_enterprise_install: false };
  }

  /** Revoke every token of a workspace (the app uninstalled there): its calls answer invalid_auth / token_revoked. */
  uninstall(team: string): void {
    for (const [token, t] of this.workspaces) if (t === team) this.workspaces.delete(token);
    this.installed.delete(team);
  }

  private channelId(channel: unknown): string {
    const c = String(channel ?? '').replace(/^#/, '');
    if (this.channels.has(c)) return c;
    for (const [id, name] of this.channels) if (name === c) return id;
    throw new Error('channel_not_found');
  }

  private call(method: string, a: Record<string, any>, team: string): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { url: 'https://stacklens-test.slack.com/', team: 'StackLens Test', user: 'stacklens', team_id: team, user_id: 'UBOT000001', bot_id: 'B0STACKLNS' };
      case 'chat.postMessage': {
        const channel = this.channelId(a.channel);
        if (!a.text && !a.blocks) throw new Error('no_text');
        if (a.blocks) checkBlocks(a.blocks);
        if (a.thread_ts && !this.messages.some((m) => m.channel === channel && m.ts === a.thread_ts)) throw new Error('thread_not_found');
        const m: FakeSlackMessage = { team, ts: this.nextTs(), channel, text: a.text ?? '', blocks: a.blocks, metadata: a.metadata, thread_ts: a.thread_ts, user: 'UBOT000001', bot_id: 'B0STACKLNS', updates: 0, postedAt: performance.now() };
        this.messages.push(m);
        return { channel, ts: m.ts, message: m };
      }
      case 'chat.update': {
        const channel = this.channelId(a.channel);
        const m = this.messages.find((x) => x.channel === channel && x.ts === a.ts);
        if (!m) throw new Error('message_not_found');
        if (a.blocks) checkBlocks(a.blocks);
        Object.assign(m, { text: a.text ?? m.text, blocks: a.blocks ?? m.blocks, metadata: a.metadata ?? m.metadata, edited: { ts: this.nextTs() } });
        m.updates++;
        return { channel, ts: m.ts, text: m.text };
      }
      case 'conversations.history': {
        const channel = this.channelId(a.channel);
        const oldest = Number(a.oldest ?? 0);
        const withMeta = a.include_all_metadata === true || a.include_all_metadata === 'true';
        const found = this.messages
          .filter((m) => m.channel === channel && !m.thread_ts && Number(m.ts) >= oldest)
          .reverse()
          .map((m) => ({ type: 'message', ts: m.ts, text: m.text, user: m.user, bot_id: m.bot_id, ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) }));
        return { messages: found, has_more: false, response_metadata: { next_cursor: '' } };
      }
      case 'conversations.list':
        return { channels: [...this.channels].map(([id, name]) => ({ id, name, is_channel: true })), response_metadata: { next_cursor: '' } };
      case 'conversations.info': {
        const id = this.channelId(a.channel);
        return { channel: { id, name: this.channels.get(id) } };
      }
      case 'users.info': {
        const name = this.users.get(String(a.user));
        if (!name) throw new Error('user_not_found');
        return { user: { id: a.user, name, team_id: this.teamId } };
      }
      default:
        throw new Error('unknown_method');
    }
  }

  /** A response_url on this server; what is POSTed there lands in `responses`. */
  responseUrl(): string {
    return `${this.url}/response/${randomBytes(6).toString('hex')}`;
  }

  /**
   * Deliver an Events API event to an app as Slack does: signed, and retried up to three
   * times (X-Slack-Retry-Num, X-Slack-Retry-Reason) while the app does not answer 2xx.
   */
  async deliverEvent(appUrl: string, secret: string, event: Record<string, unknown>, options: { eventId?: string; retryDelayMs?: number; duplicate?: boolean; team?: string } = {}): Promise<{ attempts: number; status: number }> {
    const eventId = options.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
    const body = JSON.stringify({ token: 'deprecated-verification-token', team_id: options.team ?? this.teamId, api_app_id: 'A0STACKLNS', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), event });
    let status = 0;
    for (let attempt = 0; attempt <= 3; attempt++) {
      const headers: Record<string, string> = attempt > 0 ? { 'X-Slack-Retry-Num': String(attempt), 'X-Slack-Retry-Reason': status >= 500 ? 'http_error' : 'http_timeout' } : {};
      status = (await this.signedPost(`${appUrl}/slack/events`, secret, body, 'application/json', headers)).status;
      // Slack sometimes delivers twice even when the first delivery succeeded.
      if (status < 300 && options.duplicate && attempt === 0) {
        await new Promise((r) => setTimeout(r, 1100)); // a later request: a new timestamp, a new signature
        continue;
      }
      if (status < 300) return { attempts: attempt + 1, status };
      await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 200));
    }
    return { attempts: 4, status };
  }

  /** A slash command as Slack sends it (form-encoded, signed). */
  command(appUrl: string, secret: string, fields: { text: string; user_id?: string; user_name?: string; channel_id?: string; channel_name?: string; team_id?: string }): Promise<Response> {
    const form = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: fields.team_id ?? this.teamId,
      team_domain: 'stacklens-test',
      channel_id: fields.channel_id ?? 'C0ONCALL01',
      channel_name: fields.channel_name ?? 'oncall',
      user_id: fields.user_id ?? 'U0ALICE001',
      user_name: fields.user_name ?? 'alice',
      command: '/stacklens',
      text: fields.text,
      api_app_id: 'A0STACKLNS',
      response_url: this.responseUrl(),
      trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    });
    return this.signedPost(`${appUrl}/slack/commands`, secret, form.toString(), 'application/x-www-form-urlencoded');
  }

  /** A button click as Slack sends it (block_actions payload, form-encoded, signed). */
  click(appUrl: string, secret: string, message: FakeSlackMessage, actionId: string, user: { id: string; username: string; team_id?: string } = { id: 'U0ALICE001', username: 'alice' }): Promise<Response> {
    const button = message.blocks?.flatMap((b: any) => (b.type === 'actions' ? b.elements : [])).find((e: any) => e.action_id === actionId);
    if (!button) throw new Error(`message ${message.ts} has no button ${actionId}`);
    const payload = {
      type: 'block_actions',
      user: { id: user.id, username: user.username, team_id: user.team_id ?? this.teamId },
      team: { id: user.team_id ?? this.teamId, domain: 'stacklens-test' },
      channel: { id: message.channel, name: this.channels.get(message.channel) },
      message: { ts: message.ts, text: message.text },
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel },
      response_url: this.responseUrl(),
      trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
      actions: [{ type: 'button', action_id: button.action_id, block_id: 'b', value: button.value, action_ts: String(Date.now() / 1000) }],
    };
    return this.signedPost(`${appUrl}/slack/actions`, secret, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded');
  }

  signedPost(url: string, secret: string, body: string, contentType: string, extra: Record<string, string> = {}, timestamp = String(Math.floor(Date.now() / 1000))): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': contentType, 'X-Slack-Request-Timestamp': timestamp, 'X-Slack-Signature': slackSign(secret, timestamp, body), ...extra },
      body,
    });
  }

  async stop(): Promise<void> {
    this.faults.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }
}

/** Web API arguments: form fields whose objects arrive JSON-encoded. */
function decodeArgs(body: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string' && ['blocks', 'metadata', 'attachments'].includes(k)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        throw new Error('invalid_arguments');
      }
    }
    out[k] = v;
  }
  return out;
}

/** Block Kit limits Slack enforces (invalid_blocks otherwise). */
function checkBlocks(blocks: any): void {
  if (!Array.isArray(blocks) || blocks.length > 50) throw new Error('invalid_blocks');
  for (const b of blocks) {
    if (typeof b?.type !== 'string') throw new Error('invalid_blocks');
    if (b.type === 'header' && (b.text?.type !== 'plain_text' || String(b.text.text).length > 150)) throw new Error('invalid_blocks');
    if (b.type === 'section' && b.fields && (b.fields.length > 10 || b.fields.some((f: any) => String(f.text).length > 2000))) throw new Error('invalid_blocks');
    if (b.type === 'section' && b.text && String(b.text.text).length > 3000) throw new Error('invalid_blocks');
    if (b.type === 'actions' && (!Array.isArray(b.elements) || b.elements.length > 25 || b.elements.some((e: any) => !e.action_id || String(e.value ?? '').length > 2000))) throw new Error('invalid_blocks');
  }
}
