// Incoming-webhook mode, for teams that do not want a bot token (and Microsoft Teams, whose
// incoming webhooks are the way in): the alert is posted to the webhook URL; webhooks cannot
// edit or thread, so each lifecycle change is a new message. What is posted is the platform's
// WebhookBodies; the sending (timeout, 429 + Retry-After and 5xx retried, 4xx final) is shared.
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import { RetryableError } from '../../outbox/outbox.js';
import type { ChatSender, Posted } from './sender.js';
import type { Destination } from './routing.js';
import { mattermostAttachment, slackBlocks } from './render.js';

/** The JSON a platform's webhook takes: the alert, and a lifecycle change as a new message. */
export interface WebhookBodies {
  post(dest: Destination, inc: Incident): unknown;
  reply(ref: ChatMessageRef, inc: Incident, text: string): unknown;
}

const line = (inc: Incident, text: string) => `${inc.id} (${inc.summary}): ${text}`;

export const SLACK_WEBHOOK: WebhookBodies = {
  post: (_dest, inc) => slackBlocks(inc),
  reply: (_ref, inc, text) => ({ text: line(inc, text) }),
};

export const MATTERMOST_WEBHOOK: WebhookBodies = {
  post: (dest, inc) => ({ channel: dest.channel.replace(/^[#~]/, ''), attachments: [mattermostAttachment(inc, undefined)] }),
  reply: (ref, inc, text) => ({ channel: ref.channel.replace(/^[#~]/, ''), text: line(inc, text) }),
};

/** Seconds or an HTTP date, as Retry-After may say; undefined when it says neither. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds * 1000 : undefined;
  const at = Date.parse(header);
  return Number.isFinite(at) && at > now ? at - now : undefined;
}

export class WebhookSender implements ChatSender {
  readonly canEdit = false;

  constructor(
    readonly platform: string,
    private readonly url: string,
    private readonly observe: (result: string) => void = () => {},
    private readonly bodies: WebhookBodies = platform === 'slack' ? SLACK_WEBHOOK : MATTERMOST_WEBHOOK,
    private readonly timeoutMs = 10_000,
  ) {}

  async post(dest: Destination, inc: Incident): Promise<Posted> {
    await this.send(this.bodies.post(dest, inc));
    return { channel_id: dest.channel, message_id: '' };
  }

  async findPosted(): Promise<Posted | undefined> {
    return undefined; // a webhook cannot read the channel
  }

  async update(): Promise<void> {
    // Cannot edit: reply() posts the change instead.
  }

  async reply(ref: ChatMessageRef, inc: Incident, text: string): Promise<void> {
    await this.send(this.bodies.reply(ref, inc, text));
  }

  private async send(body: unknown): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      this.observe('unreachable');
      throw new RetryableError(timedOut ? `${this.platform} webhook did not answer within ${Math.round(this.timeoutMs / 1000)} s` : `${this.platform} webhook unreachable: ${(err as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    this.observe(res.ok ? 'ok' : res.status === 429 ? 'rate_limited' : `http_${res.status}`);
    if (res.ok) return;
    if (res.status === 429 || res.status >= 500) throw new RetryableError(`${this.platform} webhook answered HTTP ${res.status}`, retryAfterMs(res.headers.get('retry-after')));
    throw new Error(`${this.platform} webhook answered HTTP ${res.status}`);
  }
}
