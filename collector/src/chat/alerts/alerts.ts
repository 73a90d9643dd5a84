// Incident alerts in chat, through the outbox:
//   incident fires and its rule notifies slack/mattermost/teams
//     → task chat_post:<incident>:<platform>:<workspace>:<channel> (payload: the destination),
//       one per routed channel, once ever (a deterministic id); a retry first looks for the
//       message a previous attempt posted, so a restart never posts twice; the incident
//       records channel + ts
//     → when this collector does not have the platform, task chat_post:<incident>:<platform>
//       (payload: the platform only) instead: a collector that has it routes (its chat
//       config) and queues the posts
//   incident changes (acknowledged, resolved, reopened, triaged, ticket filed, more events)
//     → task chat_update:<incident>:<platform>:<workspace>:<marker> (payload: platform and
//       workspace), one per platform and workspace with messages: every message there is
//       edited to the new state and the lifecycle steps it has not told yet are replied in
//       its thread
// Task ids are the outbox's dedupe keys only; handlers read the payload (legacyChatPayload
// reads it from the id for tasks queued before payloads existed).
// Every chat task needs its platform (slack:<team> for a workspace this collector has its
// own token for): only a collector that has it claims the task; one that finds it cannot
// serve it hands it back instead of skipping it.
import type { Logger } from '@stacklens/common';
import type { ChatMessageRef, ElasticsearchIncidentStore, Incident } from '@stacklens/detection';
import { CannotRunHere, RetryableError, type Outbox, type Task } from '../../outbox/outbox.js';
import { ruleKey } from '../../outbox/registry.js';
import type { ChatConfig } from '../../config.js';
import type { ChatIntegrationDescriptor } from '../../integrations/descriptors/descriptor.js';
import type { ChatSender } from './sender.js';
import { destinations, type AlertPlatform, type Destination } from './routing.js';
import { CHAT_INTEGRATIONS, integration, isChatPlatform, type IntegrationConfigs } from '../../integrations/descriptors/index.js';
import { threadText } from './render.js';

/** Count-only changes refresh the message at most this often. */
const COUNT_REFRESH_MS = 60_000;

export interface ChatAlertsConfig {
  chat: ChatConfig;
  senders: Partial<Record<AlertPlatform, ChatSender>>;
  /** Default channel per configured platform. */
  defaults: Partial<Record<AlertPlatform, string>>;
}

/**
 * The senders and default channels of the configured chat platforms, each built by its
 * descriptor (integrations/descriptors/<type>.ts chatAlerts): rebuilt when integrations change.
 */
export function chatAlertsConfig(cfg: IntegrationConfigs & { chat: ChatConfig }, log: Logger, observe: (service: string) => (result: string) => void): ChatAlertsConfig {
  const senders: ChatAlertsConfig['senders'] = {};
  const defaults: ChatAlertsConfig['defaults'] = {};
  for (const d of CHAT_INTEGRATIONS) {
    const settings = cfg[d.type];
    if (!settings) continue;
    // Each descriptor's own settings type: TypeScript cannot pair them across the union.
    const alerts = d.chatAlerts as ChatIntegrationDescriptor['chatAlerts'];
    senders[d.type] = alerts.sender(settings, { log, observe: observe(d.type) });
    defaults[d.type] = alerts.defaultChannel(settings);
  }
  return { chat: cfg.chat, senders, defaults };
}

/** Chat platforms a rule's notify list names. */
const notifiedPlatforms = (inc: Incident) => [...new Set(inc.notify.map((n) => n.split(':')[0]).filter(isChatPlatform))];

/** A chat_post task's payload: where to post; or the platform only — route on a collector that has it, and queue the posts. */
export type ChatPostPayload = Destination | Pick<Destination, 'platform'>;
/** A chat_update task's payload: the platform (integration type) and workspace whose messages it edits (none: every message — old tasks). */
export type ChatUpdatePayload = { platform?: string; workspace?: string };

/**
 * Compatibility with tasks queued by versions before task payloads: they named the
 * destination in the id — chat_post:<incident>:<platform>[:<workspace>:<channel>],
 * chat_update:<incident>:<platform>:<workspace>:<marker> or, older, chat_update:<incident>:<marker>.
 * The only place a task id is read back; remove once no such task can still be pending.
 */
export function legacyChatPayload(task: Pick<Task, 'action' | 'id'>): ChatPostPayload | ChatUpdatePayload {
  const [, , platform, workspace, ...rest] = task.id.split(':');
  if (task.action === 'chat_post') return workspace === undefined ? { platform } : { platform, workspace, channel: rest.join(':') };
  return isChatPlatform(platform) ? { platform, workspace } : {};
}

/** A chat task's payload: its own, or (queued by an older version) read from its id. */
const payloadOf = <P extends ChatPostPayload | ChatUpdatePayload>(task: Task<P>): P => task.payload ?? (legacyChatPayload(task) as P);

/** Where a chat task posts or edits, as its failure note on the timeline starts: "slack T1 #oncall". */
export function chatTaskPlace(task: Task<ChatPostPayload | ChatUpdatePayload>): string {
  const p = payloadOf(task) as Partial<Destination>;
  return [p.platform, p.workspace, p.channel].filter(Boolean).join(' ');
}

export class ChatAlerts {
  private cfg: ChatAlertsConfig = { chat: { answer_within: 2500, teams: {} }, senders: {}, defaults: {} };

  constructor(
    private readonly outbox: Outbox,
    private readonly incidents: ElasticsearchIncidentStore,
    private readonly log: Logger,
  ) {
    outbox.handle<ChatPostPayload>('chat_post', (task) => this.runPost(task));
    outbox.handle<ChatUpdatePayload>('chat_update', (task) => this.runUpdate(task));
  }

  configure(cfg: ChatAlertsConfig): void {
    this.cfg = cfg;
  }

  get configured(): boolean {
    return Object.keys(this.cfg.senders).length > 0;
  }

  /** The current sender of a platform (an integration type; undefined when not configured here). */
  sender(platform: string): ChatSender | undefined {
    return isChatPlatform(platform) ? this.cfg.senders[platform] : undefined;
  }

  /** The current sender of a platform when it is of this kind (ChatOps asks for the bot senders: their clients and directories). */
  senderOf<S extends ChatSender>(platform: AlertPlatform, kind: abstract new (...args: never[]) => S): S | undefined {
    const s = this.cfg.senders[platform];
    return s instanceof kind ? s : undefined;
  }

  destinations(inc: Incident): Destination[] {
    return destinations(inc, this.cfg.chat, this.cfg.defaults);
  }

  /** What a chat task for this platform and workspace needs (the platform's descriptor says; by default the platform). */
  private needs(platform: string, workspace: string): string[] {
    const taskNeeds = isChatPlatform(platform) ? (integration(platform) as ChatIntegrationDescriptor).chatAlerts.taskNeeds : undefined;
    return taskNeeds ? taskNeeds(workspace, this.outbox.capabilities) : [platform];
  }

  /** Queue a chat task: run by a collector that runs the incident's rule (while one is running) and has the platform. */
  private enqueue<P extends ChatPostPayload | ChatUpdatePayload>(action: string, inc: Incident, id: string, payload: P, needs: string[]): Promise<boolean> {
    return this.outbox.enqueue(action, inc.id, id, { payload, needs, rule: ruleKey(inc.rule, inc.index) });
  }

  /** A post to one destination (the id: once per incident and channel, ever). */
  private enqueuePost(inc: Incident, d: Destination): Promise<boolean> {
    return this.enqueue<ChatPostPayload>('chat_post', inc, `chat_post:${inc.id}:${d.platform}:${d.workspace}:${d.channel}`, { platform: d.platform, workspace: d.workspace, channel: d.channel }, this.needs(d.platform, d.workspace));
  }

  /** The incident fired: post where it is routed (and tell existing messages it reopened). */
  async fired(inc: Incident): Promise<void> {
    for (const d of this.destinations(inc)) await this.enqueuePost(inc, d);
    // Platforms this collector does not have: a collector that has them routes and posts.
    for (const platform of notifiedPlatforms(inc)) {
      if (!this.cfg.senders[platform]) await this.enqueue<ChatPostPayload>('chat_post', inc, `chat_post:${inc.id}:${platform}`, { platform }, [platform]);
    }
    if (inc.chat?.messages.length) await this.changed(inc);
  }

  /** Each platform + workspace that has (or is about to have) a message of this incident, with its needs. */
  private targets(inc: Incident): Map<string, { platform: string; workspace: string }> {
    const out = new Map<string, { platform: string; workspace: string }>();
    for (const m of inc.chat?.messages ?? []) out.set(`${m.platform}:${m.workspace}`, { platform: m.platform, workspace: m.workspace });
    for (const d of this.destinations(inc)) out.set(`${d.platform}:${d.workspace}`, { platform: d.platform, workspace: d.workspace });
    return out;
  }

  /** A lifecycle change: edit the messages, reply in their threads. */
  async changed(inc: Incident): Promise<void> {
    for (const [key, t] of this.targets(inc)) {
      await this.enqueue<ChatUpdatePayload>('chat_update', inc, `chat_update:${inc.id}:${key}:t${inc.timeline.length}:${inc.status}`, t, this.needs(t.platform, t.workspace));
    }
  }

  /** More events only: refresh the counts, at most once a minute. */
  async grew(inc: Incident): Promise<void> {
    const keys = new Map((inc.chat?.messages ?? []).map((m) => [`${m.platform}:${m.workspace}`, m] as const));
    for (const [key, m] of keys) {
      await this.enqueue<ChatUpdatePayload>('chat_update', inc, `chat_update:${inc.id}:${key}:p${Math.floor(Date.now() / COUNT_REFRESH_MS)}`, { platform: m.platform, workspace: m.workspace }, this.needs(m.platform, m.workspace));
    }
  }

  private async runPost(task: Task<ChatPostPayload>): Promise<Record<string, unknown>> {
    const payload = payloadOf(task);
    if (!('channel' in payload)) return this.route(task, payload.platform);
    const dest: Destination = { platform: payload.platform, workspace: payload.workspace, channel: payload.channel };
    const inc = await this.load(task.incident_id);
    const same = (m: ChatMessageRef) => m.platform === dest.platform && m.workspace === dest.workspace && m.channel === dest.channel;
    const existing = inc.chat?.messages.find(same);
    if (existing) return { already: existing.message_id };
    const sender = this.sender(dest.platform);
    if (!sender) throw new CannotRunHere([dest.platform], `${dest.platform} is not configured on this collector`);
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

  /** chat_post with the platform only, queued by a collector without the platform: route here, queue the posts. */
  private async route(task: Task<ChatPostPayload>, platform: string): Promise<Record<string, unknown>> {
    if (!this.sender(platform)) throw new CannotRunHere([platform], `${platform} is not configured on this collector`);
    const inc = await this.load(task.incident_id);
    const routed = this.destinations(inc).filter((d) => d.platform === platform);
    for (const d of routed) await this.enqueuePost(inc, d);
    return { routed: routed.map((d) => `${d.workspace ? `${d.workspace}/` : ''}${d.channel}`) };
  }

  private async runUpdate(task: Task<ChatUpdatePayload>): Promise<Record<string, unknown>> {
    const inc = await this.load(task.incident_id);
    // One platform and workspace; tasks of old versions without a platform cover every platform.
    const { platform, workspace = '' } = payloadOf(task);
    const scoped = platform !== undefined;
    const mine = (p: string, w: string) => !scoped || (p === platform && w === workspace);
    const messages = (inc.chat?.messages ?? []).filter((m) => mine(m.platform, m.workspace));
    if (messages.length === 0) {
      // A post that failed for good (401, a channel that does not exist) will not appear: the
      // update has nothing to update, and the timeline already says why.
      const postFailed = inc.timeline.some((t) => t.stage === 'chat_post_failed' && (!scoped || String(t.note ?? '').startsWith(workspace ? `${platform} ${workspace} ` : `${platform} `)));
      if (postFailed) return { skipped: 'the alert was never posted (see chat_post_failed)' };
      if (this.destinations(inc).some((d) => mine(d.platform, d.workspace))) throw new RetryableError('the alert is not posted yet');
      return { skipped: 'no chat message' };
    }
    let replies = 0;
    for (const ref of messages) {
      const sender = this.sender(ref.platform);
      if (!sender) throw new CannotRunHere([ref.platform], `${ref.platform} is not configured on this collector`);
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
