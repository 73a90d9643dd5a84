// Chat messages (Slack, Mattermost) in the logs-chat-default data stream, ECS + chat.*.
// A message's _id is derived from its platform id, so a redelivered event (Slack retries,
// Mattermost catch-up after a reconnect) never doubles it: `create` answers 409 and we move on.
// Edits, deletions and reactions change the stored message in its backing index (data
// streams take no updates by stream name) with if_seq_no, re-reading on a lost race.
import type { Client } from '@elastic/elasticsearch';
import { isConflict, isNotFound } from '@stacklens/elasticsearch';
import { DATA_STREAMS } from '@stacklens/common';

export const CHAT_STREAM = DATA_STREAMS.chat;

export type ChatPlatform = 'slack' | 'mattermost';

export interface ChatRef {
  id: string;
  name?: string;
}

export interface ChatMessage {
  platform: ChatPlatform;
  /** The platform's message id (Slack: channel id + ts; Mattermost: post id), unique in its workspace. */
  id: string;
  at: string;
  text: string;
  team: ChatRef;
  channel: ChatRef;
  user: ChatRef;
  thread_id?: string;
  is_bot?: boolean;
  files?: ChatRef[];
  edited_at?: string;
}

interface Reaction {
  name: string;
  count: number;
  users: string[];
}

export interface ChatStoreStats {
  messages: number;
  duplicates: number;
  edits: number;
  deletions: number;
  reactions: number;
  statuses: number;
}

export class ChatStore {
  readonly stats: ChatStoreStats = { messages: 0, duplicates: 0, edits: 0, deletions: 0, reactions: 0, statuses: 0 };
  private backing: string[] = [];

  constructor(private readonly client: Client) {}

  static docId(platform: ChatPlatform, team: string, id: string): string {
    return `${platform}:${team}:${id}`;
  }

  /** Index a message once; returns false when it was already there. */
  async addMessage(m: ChatMessage): Promise<boolean> {
    try {
      await this.client.create({ index: CHAT_STREAM, id: ChatStore.docId(m.platform, m.team.id, m.id), document: messageDoc(m), refresh: false });
      this.stats.messages++;
      return true;
    } catch (err) {
      if (isConflict(err)) {
        this.stats.duplicates++;
        return false;
      }
      throw err;
    }
  }

  /** A new text for a message; the edited message is indexed whole when it was never seen. */
  async editMessage(m: ChatMessage & { edited_at: string }): Promise<void> {
    const done = await this.change(m.platform, m.team.id, m.id, (chat, doc) => {
      doc.message = m.text;
      chat.edited = true;
      chat.edited_at = m.edited_at;
    });
    if (!done) await this.addMessage(m);
    this.stats.edits++;
  }

  async deleteMessage(platform: ChatPlatform, team: string, id: string, at: string): Promise<void> {
    await this.change(platform, team, id, (chat) => {
      chat.deleted = true;
      chat.deleted_at = at;
    });
    this.stats.deletions++;
  }

  /** Add or remove one user's reaction; the same reaction told twice counts once. */
  async react(platform: ChatPlatform, team: string, id: string, name: string, user: string, added: boolean): Promise<void> {
    await this.change(platform, team, id, (chat) => {
      const reactions: Reaction[] = (chat.reactions as Reaction[] | undefined) ?? [];
      let r = reactions.find((x) => x.name === name);
      if (!r && added) reactions.push((r = { name, count: 0, users: [] }));
      if (r) {
        r.users = added ? [...new Set([...r.users, user])] : r.users.filter((u) => u !== user);
        r.count = r.users.length;
      }
      chat.reactions = reactions.filter((x) => x.count > 0);
      chat.reaction_names = (chat.reactions as Reaction[]).map((x) => x.name);
    });
    this.stats.reactions++;
  }

  /** A presence change (online, away, offline, dnd): indexed once per user and time. */
  async addStatus(platform: ChatPlatform, team: ChatRef, user: ChatRef, status: string, at: string): Promise<void> {
    const doc = {
      '@timestamp': at,
      message: `${user.name ?? user.id} is ${status}`,
      ...streamFields(),
      event: { dataset: 'chat', kind: 'state', ingested: new Date().toISOString() },
      chat: { platform, type: 'status', team, user, status },
    };
    try {
      await this.client.create({ index: CHAT_STREAM, id: ChatStore.docId(platform, team.id, `status:${user.id}:${at}`), document: doc });
      this.stats.statuses++;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** Read-modify-write a stored message with optimistic concurrency; false when it is not stored. */
  private async change(platform: ChatPlatform, team: string, id: string, apply: (chat: Record<string, unknown>, doc: Record<string, unknown>) => void): Promise<boolean> {
    const docId = ChatStore.docId(platform, team, id);
    for (let attempt = 0; attempt < 10; attempt++) {
      const found = await this.find(docId);
      if (!found) return false;
      const doc = found._source as Record<string, unknown>;
      const chat = (doc.chat ?? {}) as Record<string, unknown>;
      apply(chat, doc);
      try {
        await this.client.index({ index: found._index, id: docId, document: { ...doc, chat }, if_seq_no: found._seq_no, if_primary_term: found._primary_term });
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`chat message ${docId}: too many concurrent changes`);
  }

  /** Real-time get across the stream's backing indices (newest first); the list is re-read on a miss. */
  private async find(docId: string): Promise<any | undefined> {
    for (const refresh of [false, true]) {
      if (refresh || this.backing.length === 0) this.backing = await this.backingIndices();
      for (const index of this.backing) {
        try {
          return await this.client.get({ index, id: docId });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    return undefined;
  }

  private async backingIndices(): Promise<string[]> {
    try {
      const res = await this.client.indices.get({ index: CHAT_STREAM });
      return Object.keys(res).sort().reverse();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
}

function streamFields() {
  return { data_stream: { type: 'logs', dataset: 'chat', namespace: 'default' } };
}

function messageDoc(m: ChatMessage): Record<string, unknown> {
  return {
    '@timestamp': m.at,
    message: m.text,
    ...streamFields(),
    event: { dataset: 'chat', kind: 'event', ingested: new Date().toISOString() },
    service: { name: m.platform },
    chat: {
      platform: m.platform,
      type: 'message',
      message_id: m.id,
      team: m.team,
      channel: m.channel,
      user: m.user,
      thread_id: m.thread_id,
      is_bot: m.is_bot ?? false,
      files: m.files,
      edited: m.edited_at !== undefined,
      edited_at: m.edited_at,
      deleted: false,
    },
  };
}
