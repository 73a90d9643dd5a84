// Slack through @slack/web-api: chat.postMessage with Block Kit, chat.update, thread replies.
// The client's own retries are off and rate-limited calls are rejected: the outbox retries
// with the Retry-After Slack sent (rate limits are per method tier), so a restart in
// between loses nothing. Every alert carries message metadata naming its incident, which is
// how a retried post finds a message its previous attempt sent before it died.
import { WebClient, ErrorCode, LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import type { Logger } from '@stacklens/common';
import { RetryableError } from '../../outbox/outbox.js';
import type { SlackConfig } from '../../config.js';
import { observed, type ChatSender, type Posted } from './sender.js';
import type { Destination } from './routing.js';
import { slackBlocks } from './render.js';

const METADATA_EVENT = 'stacklens_incident';

export class SlackSender implements ChatSender {
  readonly platform = 'slack' as const;
  readonly canEdit = true;
  private readonly clients = new Map<string, WebClient>();
  private readonly channelIds = new Map<string, string>();
  private defaultTeam?: Promise<string>;

  constructor(
    private readonly cfg: SlackConfig,
    log: Logger,
    private readonly observe: (result: string) => void = () => {},
  ) {
    const options = { slackApiUrl: cfg.api_url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: cfg.timeout ?? 10_000, logger: slackLogger(log) };
    if (cfg.bot_token) this.clients.set('', new WebClient(cfg.bot_token, options));
    for (const [team, w] of Object.entries(cfg.workspaces)) this.clients.set(team, new WebClient(w.bot_token, options));
  }

  /** The Web API client of a workspace ("" = the default one). */
  client(workspace: string): WebClient {
    const c = this.clients.get(workspace) ?? this.clients.get('');
    if (!c) throw new Error(`Slack workspace ${workspace || '(default)'} has no bot_token`);
    return c;
  }

  async post(dest: Destination, inc: Incident): Promise<Posted> {
    const { text, blocks } = slackBlocks(inc);
    const res = await this.call(() =>
      this.client(dest.workspace).chat.postMessage({ channel: dest.channel, text, blocks: blocks as never, unfurl_links: false, metadata: { event_type: METADATA_EVENT, event_payload: { incident_id: inc.id } } }),
    );
    return { channel_id: String(res.channel), message_id: String(res.ts) };
  }

  async findPosted(dest: Destination, inc: Incident): Promise<Posted | undefined> {
    const client = this.client(dest.workspace);
    const channel = await this.channelId(client, dest);
    if (!channel) return undefined;
    const oldest = String(Math.floor(Date.parse(inc.detected_at) / 1000) - 60);
    let cursor: string | undefined;
    do {
      const page = await this.call(() => client.conversations.history({ channel, oldest, limit: 200, include_all_metadata: true, cursor }));
      const mine = page.messages?.find((m: any) => m.metadata?.event_type === METADATA_EVENT && m.metadata?.event_payload?.incident_id === inc.id && !m.thread_ts);
      if (mine?.ts) return { channel_id: channel, message_id: mine.ts };
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return undefined;
  }

  async update(ref: ChatMessageRef, inc: Incident): Promise<void> {
    const { text, blocks } = slackBlocks(inc);
    await this.call(() => this.client(ref.workspace).chat.update({ channel: ref.channel_id, ts: ref.message_id, text, blocks: blocks as never, metadata: { event_type: METADATA_EVENT, event_payload: { incident_id: inc.id } } }));
  }

  async reply(ref: ChatMessageRef, _inc: Incident, text: string): Promise<void> {
    await this.call(() => this.client(ref.workspace).chat.postMessage({ channel: ref.channel_id, thread_ts: ref.message_id, text }));
  }

  /**
   * The default workspace's team id: auth.test of the top-level bot_token, asked once per
   * sender (a new token makes a new sender). Undefined without a default bot token.
   */
  defaultWorkspaceId(): Promise<string | undefined> {
    const client = this.clients.get('');
    if (!client) return Promise.resolve(undefined);
    const asked = (this.defaultTeam ??= this.call(() => client.auth.test()).then((r) => {
      if (!r.team_id) throw new Error('auth.test named no team');
      return r.team_id;
    }));
    asked.catch(() => this.defaultTeam === asked && (this.defaultTeam = undefined)); // ask again next time
    return asked;
  }

  /** A configured channel's id in exactly that workspace; null when no bot token of that workspace can ask. */
  async channelIdOf(workspace: string, channel: string): Promise<string | undefined | null> {
    const client = this.clients.get(workspace);
    return client ? this.channelId(client, { platform: 'slack', workspace, channel }) : null;
  }

  /** A channel's id from its configured name (history needs ids); ids pass through. */
  private async channelId(client: WebClient, dest: Destination): Promise<string | undefined> {
    const name = dest.channel.replace(/^#/, '');
    if (/^[CGD][A-Z0-9]{6,}$/.test(name)) return name;
    const key = `${dest.workspace}|${name}`;
    if (this.channelIds.has(key)) return this.channelIds.get(key);
    let cursor: string | undefined;
    do {
      const page = await this.call(() => client.conversations.list({ types: 'public_channel,private_channel', limit: 1000, exclude_archived: true, cursor }));
      for (const c of page.channels ?? []) if (c.name && c.id) this.channelIds.set(`${dest.workspace}|${c.name}`, c.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !this.channelIds.has(key));
    return this.channelIds.get(key);
  }

  /** One Web API call, its outcome counted; failures sorted into retry-worthy and final. */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    return observed(fn, this.observe, (err) => slackError(err, this.observe));
  }
}

/** @slack/web-api's errors: rate limits carry Retry-After; 5xx, outages and Slack's transient errors are retried. */
function slackError(err: unknown, observe: (result: string) => void): Error {
  const e = err as any;
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      observe('rate_limited');
      return new RetryableError(`Slack rate limit; retry after ${e.retryAfter} s`, e.retryAfter * 1000);
    case ErrorCode.HTTPError:
      observe(`http_${e.statusCode}`);
      return e.statusCode >= 500 || e.statusCode === 408 ? new RetryableError(`Slack answered HTTP ${e.statusCode}`) : new Error(`Slack answered HTTP ${e.statusCode}`);
    case ErrorCode.RequestError:
      observe('unreachable');
      return new RetryableError(`Slack unreachable: ${e.original?.message ?? e.message}`);
    case ErrorCode.PlatformError: {
      const reason = String(e.data?.error ?? 'unknown');
      // Slack's error codes are snake_case words. Anything else is an answer that is not the
      // Web API's JSON (a proxy page, a cut body): worth retrying, and never quoted back.
      if (!/^[a-z0-9_]{1,64}$/.test(reason)) {
        observe('malformed');
        return new RetryableError('Slack answered something that is not its Web API\'s JSON');
      }
      observe(reason);
      // Slack's own transient errors are worth retrying; the rest (invalid_auth, channel_not_found …) are not.
      if (['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(reason)) return new RetryableError(`Slack: ${reason}`);
      return new Error(`Slack refused the call: ${reason}`);
    }
    default:
      observe('error');
      return new RetryableError(`Slack call failed: ${e?.message ?? String(err)}`);
  }
}

/** The Web API client's own log lines, into ours (it would print to the console otherwise). */
function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => log.warn({ component: 'slack-web-api' }, msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error({ component: 'slack-web-api' }, msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => {},
  };
}
