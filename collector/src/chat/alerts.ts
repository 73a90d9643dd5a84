// Incident alerts in chat, through the outbox:
//   incident fires and its rule notifies slack/mattermost
//     → task chat_post:<incident>:<platform>:<workspace>:<channel>, one per routed channel,
//       once ever (a deterministic id); a retry first looks for the message a previous
//       attempt posted, so a restart never posts twice; the incident records channel + ts
//   incident changes (acknowledged, resolved, reopened, triaged, ticket filed, more events)
//     → task chat_update:<incident>:<marker>: every message is edited to the new state and
//       the lifecycle steps it has not told yet are replied in its thread
import type { Logger } from '@stacklens/common';
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import type { ElasticsearchIncidentStore } from '../detection/incident-store.js';
import { RetryableError, type Outbox, type Task } from '../outbox/outbox.js';
import type { ChatConfig } from '../config.js';
import type { ChatSender } from './sender.js';
import { destinations, type Destination } from './routing.js';
import { threadText } from './render.js';

/** Count-only changes refresh the message at most this often. */
const COUNT_REFRESH_MS = 60_000;

export interface ChatAlertsConfig {
  chat: ChatConfig;
  senders: Partial<Record<'slack' | 'mattermost', ChatSender>>;
  /** Default channel per configured platform. */
  defaults: Partial<Record<'slack' | 'mattermost', string>>;
}

export class ChatAlerts {
  private cfg: ChatAlertsConfig = { chat: { answer_within: 2500, teams: {} }, senders: {}, defaults: {} };

  constructor(
    private readonly outbox: Outbox,
    private readonly incidents: ElasticsearchIncidentStore,
    private readonly log: Logger,
  ) {
    outbox.handle('chat_post', (task) => this.runPost(task));
    outbox.handle('chat_update', (task) => this.runUpdate(task));
  }

  configure(cfg: ChatAlertsConfig): void {
    this.cfg = cfg;
  }

  get configured(): boolean {
    return Object.keys(this.cfg.senders).length > 0;
  }

  destinations(inc: Incident): Destination[] {
    return destinations(inc, this.cfg.chat, this.cfg.defaults);
  }

  /** The incident fired: post where it is routed (and tell existing messages it reopened). */
  async fired(inc: Incident): Promise<void> {
    for (const d of this.destinations(inc)) await this.outbox.enqueue('chat_post', inc.id, `chat_post:${inc.id}:${d.platform}:${d.workspace}:${d.channel}`);
    if (inc.chat?.messages.length) await this.changed(inc);
  }

  /** A lifecycle change: edit the messages, reply in their threads. */
  async changed(inc: Incident): Promise<void> {
    if (!inc.chat?.messages.length && this.destinations(inc).length === 0) return;
    await this.outbox.enqueue('chat_update', inc.id, `chat_update:${inc.id}:t${inc.timeline.length}:${inc.status}`);
  }

  /** More events only: refresh the counts, at most once a minute. */
  async grew(inc: Incident): Promise<void> {
    if (!inc.chat?.messages.length) return;
    await this.outbox.enqueue('chat_update', inc.id, `chat_update:${inc.id}:p${Math.floor(Date.now() / COUNT_REFRESH_MS)}`);
  }

  private async runPost(task: Task): Promise<Record<string, unknown>> {
    const [, , platform, workspace, ...rest] = task.id.split(':');
    const dest: Destination = { platform: platform as Destination['platform'], workspace, channel: rest.join(':') };
    const inc = await this.load(task.incident_id);
    const same = (m: ChatMessageRef) => m.platform === dest.platform && m.workspace === dest.workspace && m.channel === dest.channel;
    const existing = inc.chat?.messages.find(same);
    if (existing) return { already: existing.message_id };
    const sender = this.cfg.senders[dest.platform];
    // Retried: the platform may be configured (again) through the admin API within the retry budget.
    if (!sender) throw new RetryableError(`${dest.platform} is not configured`);
    const found = task.attempts > 1 ? await sender.findPosted(dest, inc) : undefined;
    const posted = found ?? (await sender.post(dest, inc));
    await this.incidents.update(inc.id, async (current) => {
      if (!current || current.chat?.messages.some(same)) return undefined;
      const next = structuredClone(current);
      next.chat ??= { messages: [] };
      // The message shows the state at posting; the thread tells what happens after.
      next.chat.messages.push({ ...dest, channel_id: posted.channel_id, message_id: posted.message_id, posted_at: new Date().toISOString(), replied: inc.timeline.length });
      return next;
    });
    this.log.info({ incident: inc.id, platform: dest.platform, channel: dest.channel, message: posted.message_id, found: Boolean(found) }, 'chat alert posted');
    // Anything that happened while posting (ack, triage) is told at once.
    const now = await this.load(inc.id);
    if (now.timeline.length > inc.timeline.length || now.status !== inc.status) await this.changed(now);
    return { platform: dest.platform, channel: posted.channel_id, message: posted.message_id, found: Boolean(found) };
  }

  private async runUpdate(task: Task): Promise<Record<string, unknown>> {
    const inc = await this.load(task.incident_id);
    const messages = inc.chat?.messages ?? [];
    if (messages.length === 0) {
      if (this.destinations(inc).length > 0) throw new RetryableError('the alert is not posted yet');
      return { skipped: 'no chat message' };
    }
    let replies = 0;
    for (const ref of messages) {
      const sender = this.cfg.senders[ref.platform];
      if (!sender) continue;
      if (sender.canEdit && ref.message_id) await sender.update(ref, inc);
      for (let i = ref.replied; i < inc.timeline.length; i++) {
        const text = threadText(inc, inc.timeline[i]);
        if (!text) continue;
        await sender.reply(ref, inc, text);
        replies++;
        // Recorded reply by reply: a retry after a failure continues where this one stopped.
        await this.markReplied(inc.id, ref, i + 1);
      }
      if (ref.replied < inc.timeline.length) await this.markReplied(inc.id, ref, inc.timeline.length);
    }
    return { messages: messages.length, replies };
  }

  private async markReplied(id: string, ref: ChatMessageRef, replied: number): Promise<void> {
    await this.incidents.update(id, async (current) => {
      const m = current?.chat?.messages.find((x) => x.platform === ref.platform && x.workspace === ref.workspace && x.channel === ref.channel);
      if (!current || !m || m.replied >= replied) return undefined;
      const next = structuredClone(current);
      next.chat!.messages.find((x) => x.platform === ref.platform && x.workspace === ref.workspace && x.channel === ref.channel)!.replied = replied;
      return next;
    });
  }

  private async load(id: string): Promise<Incident> {
    const found = await this.incidents.get(id);
    if (!found) throw new Error(`incident ${id} does not exist`);
    return found.incident;
  }
}
