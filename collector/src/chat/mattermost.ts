// Mattermost through @mattermost/client (Client4, REST v4): a post with an attachment and
// interactive buttons, edited in place (patch) with replies in its thread. Buttons call back
// to <callback_url>/mattermost/actions with a context the collector signed: Mattermost does
// not sign action requests, so the signature in the context is what proves the button is ours.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Client4 } from './mattermost-client.js';
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import { RetryableError } from '../outbox/outbox.js';
import type { MattermostConfig } from '../config.js';
import { observed, type ChatSender, type Posted } from './sender.js';
import type { Destination } from './routing.js';
import { mattermostAttachment } from './render.js';

export function mattermostClient(cfg: MattermostConfig): Client4 {
  const client = new Client4();
  // Client4 fetches without a deadline: a server that never answers would hold an outbox
  // task past its lease. Every request gets one (its options pass through getOptions).
  const getOptions = client.getOptions.bind(client);
  client.getOptions = (options: Parameters<typeof getOptions>[0]) => ({ ...getOptions(options), signal: (options as RequestInit).signal ?? AbortSignal.timeout(cfg.timeout ?? 10_000) });
  client.setUrl(cfg.url.replace(/\/+$/, ''));
  if (cfg.token) client.setToken(cfg.token);
  return client;
}

/** Signs and checks the context of interactive buttons (HMAC of incident and action). */
export class ActionSigner {
  constructor(private readonly key: string) {}

  sign(incident: string, action: string): string {
    return createHmac('sha256', this.key).update(`stacklens-action:${incident}:${action}`).digest('hex');
  }

  verify(incident: unknown, action: unknown, signature: unknown): boolean {
    if (typeof incident !== 'string' || typeof action !== 'string' || typeof signature !== 'string') return false;
    const expected = Buffer.from(this.sign(incident, action));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

export class MattermostSender implements ChatSender {
  readonly platform = 'mattermost' as const;
  readonly canEdit = true;
  readonly client: Client4;
  private readonly channelIds = new Map<string, string>();

  constructor(
    private readonly cfg: MattermostConfig,
    private readonly signer: ActionSigner,
    private readonly observe: (result: string) => void = () => {},
  ) {
    this.client = mattermostClient(cfg);
  }

  private attachment(inc: Incident) {
    const callback = this.cfg.callback_url;
    return mattermostAttachment(
      inc,
      callback ? (action) => ({ url: `${callback.replace(/\/+$/, '')}/mattermost/actions`, context: { action, incident_id: inc.id, sig: this.signer.sign(inc.id, action) } }) : undefined,
    );
  }

  async post(dest: Destination, inc: Incident): Promise<Posted> {
    const channel_id = await this.channelId(dest.channel);
    const post = await this.call(() => this.client.createPost({ channel_id, message: '', props: { attachments: [this.attachment(inc)], stacklens_incident: inc.id } } as never));
    return { channel_id, message_id: post.id };
  }

  async findPosted(dest: Destination, inc: Incident): Promise<Posted | undefined> {
    const channel_id = await this.channelId(dest.channel);
    const since = Date.parse(inc.detected_at) - 60_000;
    const list = await this.call(() => this.client.getPostsSince(channel_id, since));
    const mine = Object.values(list.posts ?? {}).find((p: any) => p.props?.stacklens_incident === inc.id && !p.root_id && !p.delete_at);
    return mine ? { channel_id, message_id: mine.id } : undefined;
  }

  async update(ref: ChatMessageRef, inc: Incident): Promise<void> {
    await this.call(() => this.client.patchPost({ id: ref.message_id, props: { attachments: [this.attachment(inc)], stacklens_incident: inc.id } } as never));
  }

  async reply(ref: ChatMessageRef, inc: Incident, text: string): Promise<void> {
    await this.call(() => this.client.createPost({ channel_id: ref.channel_id, root_id: ref.message_id, message: text, props: { stacklens_incident: inc.id } } as never));
  }

  private async channelId(name: string): Promise<string> {
    const bare = name.replace(/^[~#]/, '');
    const known = this.channelIds.get(bare);
    if (known) return known;
    const channel = await this.call(() => this.client.getChannelByNameAndTeamName(this.cfg.team, bare));
    this.channelIds.set(bare, channel.id);
    return channel.id;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return observed(fn, this.observe, (err) => mattermostError(err, this.observe));
  }
}

/** Client4's errors, sorted: 429, 5xx and unreachable are retried; other 4xx are final. */
export function mattermostError(err: unknown, observe: (result: string) => void = () => {}): Error {
  const e = err as any;
  const status = Number(e?.status_code);
  if (!status) {
    observe('unreachable');
    return new RetryableError(`Mattermost unreachable: ${e?.message ?? String(err)}`);
  }
  observe(status === 429 ? 'rate_limited' : `http_${status}`);
  const message = `Mattermost answered HTTP ${status}${e.message ? `: ${e.message}` : ''}`;
  return status === 429 || status >= 500 ? new RetryableError(message) : new Error(message);
}
