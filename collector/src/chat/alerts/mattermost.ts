// Mattermost through @mattermost/client (Client4, REST v4): a post with an attachment and
// interactive buttons, edited in place (patch) with replies in its thread. Buttons call back
// to <callback_url>/mattermost/actions with a context the collector signed: Mattermost does
// not sign action requests, so the signature in the context is what proves the button is ours.
// Lives in chat/alerts/ by its main job (the sender). ActionSigner is here because the sender
// signs the buttons it draws; chat/ops/routes.ts checks them. mattermostClient() also serves
// chat/capture/mattermost-ingest.ts and the connection test.
import { createHmac } from 'node:crypto';
import { sameSecret } from '../../security/same-secret.js';
import { Client4 } from './mattermost-client.js';
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import { RetryableError } from '../../outbox/outbox.js';
import type { MattermostConfig } from '../../config.js';
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

/**
 * How long an alert's buttons work after the alert was last drawn. Every change to the
 * incident draws it again (fresh buttons), so only an alert untouched for a week has stale
 * ones; the slash command still works then. Bounds how long a leaked context is worth anything.
 */
export const ACTION_TTL_SECONDS = 7 * 86_400;

export interface ActionContext {
  incident_id: string;
  action: string;
  /** The channel the alert was posted in: a click must come from there. */
  channel_id: string;
  /** Unix seconds after which the button is refused. */
  exp: number;
  sig: string;
}

/**
 * Signs and checks the context of interactive buttons: an HMAC over incident, action,
 * channel and expiry. Buttons are drawn for a channel, not for a person, so the person is not
 * in it: who clicked is checked against the team (routing.ts mayAct) by user id.
 */
export class ActionSigner {
  constructor(
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {}

  context(incident: string, action: string, channelId: string): ActionContext {
    const exp = Math.floor(this.now() / 1000) + ACTION_TTL_SECONDS;
    return { incident_id: incident, action, channel_id: channelId, exp, sig: this.sign(incident, action, channelId, exp) };
  }

  /** Why a clicked button's context is refused (undefined: it is ours, fresh, and clicked where it was posted). */
  check(c: any, clickedIn: unknown): string | undefined {
    const shaped = c && typeof c.incident_id === 'string' && typeof c.action === 'string' && typeof c.channel_id === 'string' && Number.isSafeInteger(c.exp) && typeof c.sig === 'string';
    if (!shaped) return 'its context is not signed by this StackLens';
    if (!sameSecret(c.sig, this.sign(c.incident_id, c.action, c.channel_id, c.exp))) return 'its context is not signed by this StackLens';
    if (c.exp * 1000 < this.now()) return `this button expired at ${new Date(c.exp * 1000).toISOString()} (buttons work for 7 days after the alert last changed); use /stacklens ack|resolve ${c.incident_id}`;
    if (clickedIn !== c.channel_id) return 'this button belongs to an alert in another channel';
    return undefined;
  }

  private sign(incident: string, action: string, channelId: string, exp: number): string {
    // JSON keeps the fields apart (no separator a value could contain).
    return createHmac('sha256', this.key).update(JSON.stringify(['stacklens-action', 2, incident, action, channelId, exp])).digest('hex');
  }
}

const signers = new WeakMap<MattermostConfig, ActionSigner>();

/**
 * The signer of these Mattermost settings' buttons (one per settings object: the sender signs
 * with it, chat/ops/routes.ts checks with it). Keyed by the secrets, so new ones void old buttons.
 */
export function mattermostSigner(m: MattermostConfig): ActionSigner {
  let signer = signers.get(m);
  if (!signer) signers.set(m, (signer = new ActionSigner(`${m.command_token ?? ''}|${m.token ?? ''}|${m.webhook_url ?? ''}`)));
  return signer;
}

export class MattermostSender implements ChatSender {
  readonly platform = 'mattermost' as const;
  readonly canEdit = true;
  readonly client: Client4;
  private readonly channelIds = new Map<string, string>();
  private team?: Promise<string>;

  constructor(
    private readonly cfg: MattermostConfig,
    private readonly signer: ActionSigner,
    private readonly observe: (result: string) => void = () => {},
  ) {
    this.client = mattermostClient(cfg);
  }

  private attachment(inc: Incident, channelId: string) {
    const callback = this.cfg.callback_url;
    return mattermostAttachment(
      inc,
      callback ? (action) => ({ url: `${callback.replace(/\/+$/, '')}/mattermost/actions`, context: { ...this.signer.context(inc.id, action, channelId) } }) : undefined,
    );
  }

  async post(dest: Destination, inc: Incident): Promise<Posted> {
    const channel_id = await this.channelId(dest.channel);
    const post = await this.call(() => this.client.createPost({ channel_id, message: '', props: { attachments: [this.attachment(inc, channel_id)], stacklens_incident: inc.id } } as never));
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
    await this.call(() => this.client.patchPost({ id: ref.message_id, props: { attachments: [this.attachment(inc, ref.channel_id)], stacklens_incident: inc.id } } as never));
  }

  async reply(ref: ChatMessageRef, inc: Incident, text: string): Promise<void> {
    await this.call(() => this.client.createPost({ channel_id: ref.channel_id, root_id: ref.message_id, message: text, props: { stacklens_incident: inc.id } } as never));
  }

  /** The configured team's id (asked once per sender; asked again after a failure). */
  teamId(): Promise<string> {
    const asked = (this.team ??= this.call(() => this.client.getTeamByName(this.cfg.team)).then((t) => t.id));
    asked.catch(() => this.team === asked && (this.team = undefined));
    return asked;
  }

  /** A channel's id in the configured team; undefined when Mattermost says there is none. */
  async channelIdOf(name: string): Promise<string | undefined> {
    try {
      return await this.channelId(name);
    } catch (err) {
      if (/HTTP 404/.test((err as Error).message)) return undefined;
      throw err;
    }
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
