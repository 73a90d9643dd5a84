// A local server speaking the parts of Mattermost's API v4 StackLens uses, as documented:
// REST with `Authorization: Bearer <token>` and `Content-Type: application/json` answers
// (errors as {id, message, status_code}); posts with props (attachments, interactive
// actions), patch, threads, posts since a time (created, edited or deleted since), channels by
// name, the bot's channels, profiles by ids; and the WebSocket at /api/v4/websocket:
// authentication_challenge, hello with a connection id, events numbered by `seq`, ping/pong.
// Users can post, edit, delete, react and change status, and the server can be restarted
// (every socket dropped) while keeping its data — as a real restart would. `faults` fails
// chosen REST requests (see faults.ts).
import express from 'express';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { Faults, truncatedJson } from './faults.js';

export interface FakeMattermostPost {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  user_id: string;
  channel_id: string;
  root_id: string;
  message: string;
  type: string;
  props: Record<string, any>;
  file_ids?: string[];
}

const newId = () => randomBytes(13).toString('hex').slice(0, 26);

/** Mattermost's error answer: {id, message, status_code} as exactly application/json (Client4 reads it as JSON only then). */
function mattermostError(res: express.Response, status: number, id: string, message: string): void {
  res.status(status).setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ id, message, detailed_error: '', request_id: newId(), status_code: status }));
}

export class FakeMattermost {
  readonly team = { id: newId(), name: 'ops', display_name: 'Ops' };
  readonly users = new Map<string, { id: string; username: string; is_bot?: boolean }>();
  readonly channels = new Map<string, { id: string; name: string; team_id: string; display_name: string; type: string }>();
  readonly posts = new Map<string, FakeMattermostPost>();
  readonly bot: { id: string; username: string; is_bot: boolean };
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Answer the next N REST calls with 429. */
  rateLimit = { remaining: 0 };
  /** WebSocket connections that completed authentication, over the server's life. */
  authenticatedSockets = 0;
  /** Fault injection on the REST API (see faults.ts). */
  readonly faults = new Faults('mattermost', {
    unavailable: (res) => mattermostError(res, 503, 'api.context.server_unavailable.app_error', 'Service Unavailable'),
    rateLimited: (res) => {
      res.setHeader('Retry-After', '1');
      res.setHeader('X-Ratelimit-Remaining', '0');
      mattermostError(res, 429, 'api.context.rate_limit.app_error', 'Too many requests');
    },
    unauthorized: (res) => mattermostError(res, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.'),
    malformed: (res) => truncatedJson(res, { id: newId(), create_at: Date.now(), channel_id: newId(), message: '', props: {} }),
  });
  url = '';
  private server?: Server;
  private wss?: WebSocketServer;
  private readonly sockets = new Set<{ ws: WebSocket; seq: number; authed: boolean }>();
  private clock = 0;

  constructor(readonly botToken: string) {
    this.bot = { id: newId(), username: 'stacklens', is_bot: true };
    this.users.set(this.bot.id, this.bot);
    this.addChannel('oncall');
  }

  addChannel(name: string): string {
    const id = newId();
    this.channels.set(id, { id, name, team_id: this.team.id, display_name: name, type: 'O' });
    return id;
  }

  addUser(username: string): string {
    const id = newId();
    this.users.set(id, { id, username });
    return id;
  }

  channelId(name: string): string {
    for (const c of this.channels.values()) if (c.name === name) return c.id;
    throw new Error(`no channel ${name}`);
  }

  /** Milliseconds, strictly increasing (Mattermost's create_at / update_at). */
  private now(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  async start(port = 0): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '2mb' }));
    const json = (res: express.Response, status: number, body: unknown) => {
      // Exactly "application/json": Client4 reads the body as JSON only then.
      res.status(status).setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const error = (res: express.Response, status: number, id: string, message: string) => json(res, status, { id, message, detailed_error: '', request_id: newId(), status_code: status });
    app.use('/api/v4', (req, res, next) => {
      res.on('finish', () => this.requests.push({ method: req.method, path: req.path, status: res.statusCode }));
      next();
    });
    app.use(this.faults.middleware());
    app.use('/api/v4', (req, res, next) => {
      if (this.rateLimit.remaining > 0) {
        this.rateLimit.remaining--;
        res.setHeader('Retry-After', '1');
        return error(res, 429, 'api.context.rate_limit.app_error', 'Too many requests');
      }
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (token !== this.botToken) return error(res, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
      next();
    });
    app.get('/api/v4/users/me', (_req, res) => json(res, 200, this.bot));
    app.post('/api/v4/users/ids', (req, res) => json(res, 200, (req.body as string[]).map((id) => this.users.get(id)).filter(Boolean)));
    app.get('/api/v4/teams/name/:team', (req, res) => (req.params.team === this.team.name ? json(res, 200, this.team) : error(res, 404, 'app.team.get_by_name.missing.app_error', 'Unable to find the existing team.')));
    app.get('/api/v4/teams/name/:team/channels/name/:channel', (req, res) => {
      const c = [...this.channels.values()].find((x) => x.name === req.params.channel);
      if (req.params.team !== this.team.name || !c) return error(res, 404, 'app.channel.get_by_name.missing.app_error', 'Channel does not exist.');
      json(res, 200, c);
    });
    app.get('/api/v4/users/me/teams/:team/channels', (req, res) => json(res, 200, [...this.channels.values()].filter((c) => c.team_id === req.params.team)));
    app.post('/api/v4/posts', (req, res) => {
      const b = req.body ?? {};
      if (!this.channels.has(b.channel_id)) return error(res, 403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');
      if (b.root_id && !this.posts.has(b.root_id)) return error(res, 400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
      const problem = checkAttachments(b.props?.attachments);
      if (problem) return error(res, 400, 'api.post.create_post.attachments.app_error', problem);
      json(res, 201, this.createPost(this.bot.id, b.channel_id, String(b.message ?? ''), b.root_id ?? '', b.props ?? {}));
    });
    app.put('/api/v4/posts/:id/patch', (req, res) => {
      const p = this.posts.get(String(req.params.id));
      if (!p || p.delete_at) return error(res, 404, 'app.post.get.app_error', 'Unable to get the post.');
      const problem = checkAttachments(req.body?.props?.attachments);
      if (problem) return error(res, 400, 'api.post.patch_post.attachments.app_error', problem);
      if (req.body?.message !== undefined) p.message = String(req.body.message);
      if (req.body?.props !== undefined) p.props = req.body.props;
      p.edit_at = p.update_at = this.now();
      this.broadcast('post_edited', { post: JSON.stringify(p) }, p.channel_id);
      json(res, 200, p);
    });
    app.get('/api/v4/posts/:id', (req, res) => {
      const p = this.posts.get(String(req.params.id));
      return p ? json(res, 200, p) : error(res, 404, 'app.post.get.app_error', 'Unable to get the post.');
    });
    app.get('/api/v4/channels/:id/posts', (req, res) => {
      const since = Number(req.query.since ?? 0);
      const found = [...this.posts.values()].filter((p) => p.channel_id === req.params.id && (since ? p.update_at >= since : !p.delete_at));
      found.sort((a, b) => b.create_at - a.create_at);
      json(res, 200, { order: found.map((p) => p.id), posts: Object.fromEntries(found.map((p) => [p.id, p])), next_post_id: '', prev_post_id: '' });
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    this.wss = new WebSocketServer({ server: this.server, path: '/api/v4/websocket' });
    this.wss.on('connection', (ws) => this.onSocket(ws));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    return this.url;
  }

  private onSocket(ws: WebSocket): void {
    const conn = { ws, seq: 0, authed: false };
    this.sockets.add(conn);
    ws.on('close', () => this.sockets.delete(conn));
    ws.on('message', (data) => {
      let msg: any;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return void ws.close(1003, 'not JSON');
      }
      if (msg.action === 'authentication_challenge') {
        if (msg.data?.token !== this.botToken) {
          ws.send(JSON.stringify({ status: 'FAIL', seq_reply: msg.seq, error: { id: 'api.web_socket_router.not_authenticated.app_error', message: 'Not authenticated' } }));
          return void ws.close(1008, 'not authenticated');
        }
        conn.authed = true;
        this.authenticatedSockets++;
        ws.send(JSON.stringify({ status: 'OK', seq_reply: msg.seq }));
        this.send(conn, 'hello', { connection_id: newId(), server_version: '10.5.0.fake', server_hostname: 'fake' });
        return;
      }
      if (msg.action === 'ping') ws.send(JSON.stringify({ status: 'OK', seq_reply: msg.seq, data: { text: 'pong', version: '10.5.0', server_time: Date.now() } }));
    });
  }

  private send(conn: { ws: WebSocket; seq: number }, event: string, data: Record<string, unknown>, broadcast: Record<string, unknown> = {}): void {
    conn.ws.send(JSON.stringify({ event, data, broadcast: { omit_users: null, user_id: '', channel_id: '', team_id: '', ...broadcast }, seq: conn.seq++ }));
  }

  private broadcast(event: string, data: Record<string, unknown>, channelId = ''): void {
    for (const conn of this.sockets) if (conn.authed) this.send(conn, event, data, { channel_id: channelId });
  }

  createPost(userId: string, channelId: string, message: string, rootId = '', props: Record<string, any> = {}): FakeMattermostPost {
    const at = this.now();
    const p: FakeMattermostPost = { id: newId(), create_at: at, update_at: at, edit_at: 0, delete_at: 0, user_id: userId, channel_id: channelId, root_id: rootId, message, type: '', props };
    this.posts.set(p.id, p);
    const channel = this.channels.get(channelId)!;
    this.broadcast('posted', { post: JSON.stringify(p), channel_display_name: channel.display_name, channel_name: channel.name, channel_type: channel.type, sender_name: `@${this.users.get(userId)?.username}`, team_id: this.team.id }, channelId);
    return p;
  }

  /** What a person does in the web app. */
  userPost(username: string, channel: string, message: string, rootId = ''): FakeMattermostPost {
    const user = [...this.users.values()].find((u) => u.username === username) ?? this.users.get(this.addUser(username))!;
    return this.createPost(user.id, this.channelId(channel), message, rootId);
  }

  userEdit(postId: string, message: string): void {
    const p = this.posts.get(postId)!;
    p.message = message;
    p.edit_at = p.update_at = this.now();
    this.broadcast('post_edited', { post: JSON.stringify(p) }, p.channel_id);
  }

  userDelete(postId: string): void {
    const p = this.posts.get(postId)!;
    p.delete_at = p.update_at = this.now();
    this.broadcast('post_deleted', { post: JSON.stringify(p) }, p.channel_id);
  }

  react(username: string, postId: string, emoji: string): void {
    const user = [...this.users.values()].find((u) => u.username === username)!;
    const p = this.posts.get(postId)!;
    p.update_at = this.now();
    this.broadcast('reaction_added', { reaction: JSON.stringify({ user_id: user.id, post_id: postId, emoji_name: emoji, create_at: p.update_at }) }, p.channel_id);
  }

  setStatus(username: string, status: 'online' | 'away' | 'offline' | 'dnd'): void {
    const user = [...this.users.values()].find((u) => u.username === username)!;
    this.broadcast('status_change', { status, user_id: user.id });
  }

  /** Top-level posts by the bot in a channel. */
  botPosts(channel = 'oncall'): FakeMattermostPost[] {
    const id = this.channelId(channel);
    return [...this.posts.values()].filter((p) => p.channel_id === id && p.user_id === this.bot.id && !p.root_id);
  }

  replies(rootId: string): FakeMattermostPost[] {
    return [...this.posts.values()].filter((p) => p.root_id === rootId);
  }

  connectedSockets(): number {
    return [...this.sockets].filter((c) => c.authed).length;
  }

  /** Stop listening and drop every connection; the data stays (start(port) brings it back). */
  async stop(): Promise<void> {
    this.faults.close();
    for (const c of this.sockets) c.ws.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  /** A restart: down, then up on the same port with the same data, new connection ids. */
  async restart(downMs = 200): Promise<void> {
    const port = Number(new URL(this.url).port);
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start(port);
  }
}

/** What Mattermost checks of message attachments and their interactive actions. */
function checkAttachments(attachments: unknown): string | undefined {
  if (attachments === undefined) return undefined;
  if (!Array.isArray(attachments)) return 'props.attachments must be a list';
  for (const a of attachments as any[]) {
    for (const act of a.actions ?? []) {
      if (!/^[A-Za-z0-9]+$/.test(String(act.id ?? ''))) return `action id "${act.id}" must be alphanumeric`;
      if (!act.name || !act.integration?.url) return 'an action needs a name and integration.url';
    }
  }
  return undefined;
}
