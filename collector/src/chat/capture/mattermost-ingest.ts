// Mattermost conversations → logs-chat-default, over the WebSocket of @mattermost/client
// (with `ws` on Node). The client pings every 30 s (heartbeat), reconnects with a growing
// backoff and resumes its event sequence; when the server cannot resume it (a restart, a
// long cut) we fetch over REST what was posted, edited or deleted since the last event we
// saw — in every channel the bot is in — so nothing is lost. Message ids come from post ids: nothing is stored twice.
// At start the catch-up begins at the newest Mattermost message already stored.
import WebSocket from 'ws';
import { WebSocketClient, type Client4 } from '../alerts/mattermost-client.js';
import type { Client } from '@elastic/elasticsearch';
import { Backoff, sleep, type Logger } from '@stacklens/common';
import type { MattermostConfig } from '../../config.js';
import { CHAT_STREAM, type ChatMessage, type ChatStore } from './chat-store.js';
import { mattermostClient } from '../alerts/mattermost.js';
import { isIndexMissing } from '@stacklens/elasticsearch';

/** Allowance for clocks and in-flight posts when asking for "posts since". */
const CATCH_UP_OVERLAP_MS = 5_000;

// @mattermost/client is written for browsers: it reads WebSocket.OPEN and builds CloseEvents.
const g = globalThis as any;
g.WebSocket ??= WebSocket;
g.CloseEvent ??= class CloseEvent extends Event {
  code: number;
  wasClean: boolean;
  constructor(type: string, init: { code?: number; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 1000;
    this.wasClean = init.wasClean ?? false;
  }
};

export interface MattermostIngestStats {
  events: number;
  caught_up: number;
  reconnects: number;
  connected: boolean;
}

export class MattermostIngest {
  readonly stats: MattermostIngestStats = { events: 0, caught_up: 0, reconnects: 0, connected: false };
  private readonly rest: Client4;
  private ws?: WebSocketClient;
  private teamId = '';
  private lastSeen = 0;
  private readonly users = new Map<string, string>();
  private readonly channels = new Map<string, string>();
  /** Events are applied one after another, in arrival order (an edit after its post). */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly cfg: MattermostConfig,
    private readonly store: ChatStore,
    private readonly es: Client,
    private readonly log: Logger,
  ) {
    this.rest = mattermostClient(cfg);
  }

  async start(): Promise<void> {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 60_000 });
    while (!this.stopped) {
      try {
        this.teamId = (await this.rest.getTeamByName(this.cfg.team)).id;
        break;
      } catch (err) {
        this.log.warn({ team: this.cfg.team, err: (err as Error).message }, 'cannot reach Mattermost yet; retrying');
        await sleep(backoff.next());
      }
    }
    if (this.stopped) return;
    this.lastSeen = await this.newestStored();
    const ws = new WebSocketClient({
      newWebSocketFn: (url) => new WebSocket(url) as never,
      minWebSocketRetryTime: this.cfg.reconnect_min,
      maxWebSocketRetryTime: this.cfg.reconnect_max,
      maxWebSocketFails: 0, // back off from the first failure
      reconnectJitterRange: Math.min(2000, this.cfg.reconnect_min),
    });
    ws.addMessageListener((msg) => this.enqueue(() => this.onEvent(msg)));
    ws.addFirstConnectListener(() => {
      this.stats.connected = true;
      this.log.info({ team: this.cfg.team }, 'Mattermost WebSocket connected');
      this.enqueue(() => this.catchUp('start'));
    });
    ws.addReconnectListener(() => {
      this.stats.connected = true;
      this.stats.reconnects++;
      this.log.info({ team: this.cfg.team }, 'Mattermost WebSocket reconnected');
    });
    // A new connection id in the server's hello (a restart, or a gap the server could not
    // replay): the client resets its event sequence, and we fetch what was missed over REST.
    ws.addMissedMessageListener(() => {
      this.log.info({ team: this.cfg.team }, 'Mattermost events may have been missed; fetching them');
      this.enqueue(() => this.catchUp('reconnect'));
    });
    ws.addCloseListener((fails) => {
      this.stats.connected = false;
      if (this.stopped) ws.close();
      else if (fails === 1) this.log.warn({ team: this.cfg.team }, 'Mattermost WebSocket closed; reconnecting');
    });
    ws.addErrorListener(() => {});
    this.ws = ws;
    ws.initialize(this.rest.getWebSocketUrl().replace(/^http/, 'ws'), this.cfg.token);
  }

  /** Resolves when every event received so far is stored. */
  idle(): Promise<void> {
    return this.chain;
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  /** Run one storage step after the previous; a failure is retried (with backoff) — never skipped. */
  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          return await step();
        } catch (err) {
          if (attempt === 1 || attempt % 10 === 0) this.log.warn({ attempt, err: (err as Error).message }, 'Mattermost event not stored yet; retrying');
          await sleep(backoff.next());
        }
      }
    });
  }

  private async onEvent(msg: any): Promise<void> {
    const d = msg?.data ?? {};
    switch (msg?.event) {
      case 'posted':
      case 'post_edited':
      case 'post_deleted': {
        const post = typeof d.post === 'string' ? JSON.parse(d.post) : d.post;
        if (post?.id) {
          if (d.channel_name && post.channel_id) this.channels.set(post.channel_id, d.channel_name);
          if (d.sender_name && post.user_id) this.users.set(post.user_id, String(d.sender_name).replace(/^@/, ''));
          await this.applyPost(post);
          this.stats.events++;
        }
        break;
      }
      case 'reaction_added':
      case 'reaction_removed': {
        const r = typeof d.reaction === 'string' ? JSON.parse(d.reaction) : d.reaction;
        if (r?.post_id) {
          await this.store.react('mattermost', this.teamId, r.post_id, r.emoji_name, (await this.userName(r.user_id)) ?? r.user_id, msg.event === 'reaction_added');
          this.stats.events++;
        }
        break;
      }
      case 'status_change':
        if (d.user_id && d.status) {
          await this.store.addStatus('mattermost', { id: this.teamId, name: this.cfg.team }, { id: d.user_id, name: await this.userName(d.user_id) }, String(d.status), new Date().toISOString());
          this.stats.events++;
        }
        break;
      default:
    }
  }

  /** A post as Mattermost has it now: new, edited or deleted. */
  private async applyPost(post: any): Promise<void> {
    if (post.type && post.type.startsWith('system_')) return; // joins, header changes …
    if (post.delete_at > 0) {
      await this.store.deleteMessage('mattermost', this.teamId, post.id, new Date(post.delete_at).toISOString());
    } else {
      const m = await this.toMessage(post);
      if (post.edit_at > 0) await this.store.editMessage({ ...m, edited_at: new Date(post.edit_at).toISOString() });
      else await this.store.addMessage(m);
    }
    this.lastSeen = Math.max(this.lastSeen, post.update_at ?? 0, post.create_at ?? 0);
  }

  /** Everything posted, edited or deleted since the last event seen, in every channel the bot is in. */
  private async catchUp(why: string): Promise<void> {
    const since = Math.max(1, this.lastSeen - CATCH_UP_OVERLAP_MS);
    const channels = await this.rest.getMyChannels(this.teamId);
    let applied = 0;
    for (const c of channels) {
      this.channels.set(c.id, c.name);
      const list = await this.rest.getPostsSince(c.id, since);
      const posts = Object.values(list.posts ?? {}).sort((a: any, b: any) => a.update_at - b.update_at);
      for (const p of posts) {
        await this.applyPost(p);
        applied++;
      }
    }
    this.stats.caught_up += applied;
    this.log.info({ why, channels: channels.length, posts: applied, since: new Date(since).toISOString() }, 'Mattermost catch-up done');
  }

  private async toMessage(post: any): Promise<ChatMessage> {
    return {
      platform: 'mattermost',
      id: post.id,
      at: new Date(post.create_at).toISOString(),
      text: String(post.message ?? ''),
      team: { id: this.teamId, name: this.cfg.team },
      channel: { id: post.channel_id, name: this.channels.get(post.channel_id) },
      user: { id: post.user_id, name: await this.userName(post.user_id) },
      thread_id: post.root_id || undefined,
      is_bot: Boolean(post.props?.from_bot || post.props?.stacklens_incident),
      files: Array.isArray(post.file_ids) && post.file_ids.length ? post.file_ids.map((id: string) => ({ id })) : undefined,
    };
  }

  private async userName(id: string): Promise<string | undefined> {
    if (!id) return undefined;
    if (this.users.has(id)) return this.users.get(id);
    try {
      const [u] = await this.rest.getProfilesByIds([id]);
      if (u?.username) this.users.set(id, u.username);
      return u?.username;
    } catch {
      return undefined; // stored with the id; the name is a convenience
    }
  }

  private async newestStored(): Promise<number> {
    try {
      const res: any = await this.es.search({
        index: CHAT_STREAM,
        size: 0,
        query: { bool: { filter: [{ term: { 'chat.platform': 'mattermost' } }, { term: { 'chat.team.id': this.teamId } }] } },
        aggs: { newest: { max: { field: '@timestamp' } }, edited: { max: { field: 'chat.edited_at' } } },
      } as never);
      return Math.max(res.aggregations.newest.value ?? 0, res.aggregations.edited.value ?? 0);
    } catch (err) {
      if (isIndexMissing(err)) return 0;
      throw err;
    }
  }
}

