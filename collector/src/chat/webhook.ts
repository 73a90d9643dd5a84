// Incoming-webhook mode, for teams that do not want a bot token: the alert is posted to the
// webhook URL; webhooks cannot edit or thread, so each lifecycle change is a new message.
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import { RetryableError } from '../outbox/outbox.js';
import type { ChatSender, Posted } from './sender.js';
import type { Destination } from './routing.js';
import { mattermostAttachment, slackBlocks } from './render.js';

export class WebhookSender implements ChatSender {
  readonly canEdit = false;

  constructor(
    readonly platform: 'slack' | 'mattermost',
    private readonly url: string,
    private readonly observe: (result: string) => void = () => {},
  ) {}

  async post(dest: Destination, inc: Incident): Promise<Posted> {
    const body = this.platform === 'slack' ? slackBlocks(inc) : { channel: dest.channel.replace(/^[#~]/, ''), attachments: [mattermostAttachment(inc, undefined)] };
    await this.send(body);
    return { channel_id: dest.channel, message_id: '' };
  }

  async findPosted(): Promise<Posted | undefined> {
    return undefined; // a webhook cannot read the channel
  }

  async update(): Promise<void> {
    // Cannot edit: reply() posts the change instead.
  }

  async reply(ref: ChatMessageRef, inc: Incident, text: string): Promise<void> {
    const line = `${inc.id} (${inc.summary}): ${text}`;
    await this.send(this.platform === 'slack' ? { text: line } : { channel: ref.channel.replace(/^[#~]/, ''), text: line });
  }

  private async send(body: unknown): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      this.observe('unreachable');
      throw new RetryableError(`${this.platform} webhook unreachable: ${(err as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    this.observe(res.ok ? 'ok' : res.status === 429 ? 'rate_limited' : `http_${res.status}`);
    if (res.ok) return;
    const retryAfter = Number(res.headers.get('retry-after'));
    if (res.status === 429 || res.status >= 500) throw new RetryableError(`${this.platform} webhook answered HTTP ${res.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    throw new Error(`${this.platform} webhook answered HTTP ${res.status}`);
  }
}
