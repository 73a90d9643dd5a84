// Slack Events API → logs-chat-default. Slack retries an event it thinks we missed
// (X-Slack-Retry-Num, same event_id); ids derived from channel + ts make that harmless, and
// recent event ids are remembered so a retry costs no write at all. Names of users and
// channels are looked up once (users.info, conversations.info) when a bot token is there.
import type { WebClient } from '@slack/web-api';
import type { Logger } from '@stacklens/common';
import type { ChatMessage, ChatRef, ChatStore } from './chat-store.js';

const REMEMBERED_EVENTS = 10_000;

const tsToIso = (ts: string) => new Date(Math.round(Number(ts) * 1000)).toISOString();

export class SlackEvents {
  private readonly seen = new Set<string>();
  private readonly names = new Map<string, string | undefined>();

  constructor(
    private readonly store: ChatStore,
    private readonly client: (team: string) => WebClient | undefined,
    private readonly log: Logger,
  ) {}

  /** Handle one event_callback; throws when it could not be stored (Slack then retries). */
  async handle(envelope: any): Promise<'stored' | 'duplicate' | 'ignored'> {
    const eventId = String(envelope.event_id ?? '');
    if (eventId && this.seen.has(eventId)) return 'duplicate';
    const team = String(envelope.team_id ?? envelope.event?.team ?? '');
    const e = envelope.event ?? {};
    let outcome: 'stored' | 'ignored' = 'stored';
    switch (e.type) {
      case 'message':
        outcome = await this.message(team, e);
        break;
      case 'reaction_added':
      case 'reaction_removed':
        if (e.item?.type !== 'message') return 'ignored';
        await this.store.react('slack', team, `${e.item.channel}:${e.item.ts}`, String(e.reaction), String(e.user), e.type === 'reaction_added');
        break;
      case 'file_shared':
        await this.store.addMessage({
          platform: 'slack',
          id: `file:${e.file_id}:${e.event_ts}`,
          at: tsToIso(e.event_ts),
          text: `shared a file (${e.file_id})`,
          team: { id: team },
          channel: await this.channel(team, e.channel_id),
          user: await this.user(team, e.user_id),
          files: [{ id: String(e.file_id) }],
        });
        break;
      default:
        outcome = 'ignored';
    }
    if (eventId) this.remember(eventId);
    return outcome;
  }

  private async message(team: string, e: any): Promise<'stored' | 'ignored'> {
    const channel = await this.channel(team, e.channel);
    if (e.subtype === 'message_deleted') {
      await this.store.deleteMessage('slack', team, `${e.channel}:${e.deleted_ts}`, tsToIso(e.event_ts ?? e.ts));
      return 'stored';
    }
    if (e.subtype === 'message_changed') {
      const m = e.message ?? {};
      await this.store.editMessage({ ...(await this.toMessage(team, channel, m)), edited_at: tsToIso(m.edited?.ts ?? e.event_ts ?? e.ts) });
      return 'stored';
    }
    // Plain messages, thread replies, bot messages, file shares; not joins, topics and the like.
    if (e.subtype && !['bot_message', 'thread_broadcast', 'file_share', 'me_message'].includes(e.subtype)) return 'ignored';
    await this.store.addMessage(await this.toMessage(team, channel, e));
    return 'stored';
  }

  private async toMessage(team: string, channel: ChatRef, m: any): Promise<ChatMessage> {
    return {
      platform: 'slack',
      id: `${channel.id}:${m.ts}`,
      at: tsToIso(m.ts),
      text: String(m.text ?? ''),
      team: { id: team },
      channel,
      user: m.user ? await this.user(team, m.user) : { id: String(m.bot_id ?? 'unknown'), name: m.username },
      thread_id: m.thread_ts && m.thread_ts !== m.ts ? String(m.thread_ts) : undefined,
      is_bot: Boolean(m.bot_id),
      files: Array.isArray(m.files) ? m.files.map((f: any) => ({ id: String(f.id), name: f.name })) : undefined,
    };
  }

  private async user(team: string, id: string): Promise<ChatRef> {
    return { id, name: await this.lookup(team, `user:${id}`, async (c) => (await c.users.info({ user: id })).user?.name) };
  }

  private async channel(team: string, id: string): Promise<ChatRef> {
    return { id, name: await this.lookup(team, `channel:${id}`, async (c) => (await c.conversations.info({ channel: id })).channel?.name) };
  }

  private async lookup(team: string, key: string, fetch: (c: WebClient) => Promise<string | undefined>): Promise<string | undefined> {
    const k = `${team}|${key}`;
    if (this.names.has(k)) return this.names.get(k);
    const client = this.client(team);
    if (!client) return undefined;
    try {
      const name = await fetch(client);
      this.names.set(k, name);
      return name;
    } catch (err) {
      // A name is a convenience; the message is stored with ids either way.
      this.log.debug({ key, err: (err as Error).message }, 'Slack name lookup failed');
      return undefined;
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_EVENTS) this.seen.delete(this.seen.values().next().value as string);
  }
}
