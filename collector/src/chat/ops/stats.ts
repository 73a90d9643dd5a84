// `/stacklens stats`: what the on-call channel asks most — how busy chat is, who is around,
// how fast the bot answers and which errors the services log. Two searches, aggregations only,
// both confined to `scope` (the asker's teams' channels and datasets, security/team-scope.ts).
import type { Client } from '@elastic/elasticsearch';
import { datasetPattern } from '@stacklens/common';

export interface ChatStats {
  messages_last_hour: number;
  messages_last_24h: number;
  active_users_today: number;
  active_users_7d: number;
  bot_response_ms_avg: number | null;
  bot_replies_24h: number;
  errors_24h: { type: string; count: number }[];
}

export async function chatStats(client: Client, now = Date.now(), scope?: Record<string, unknown>): Promise<ChatStats> {
  const scoped = scope ? [scope] : [];
  const dayStart = new Date(now);
  dayStart.setUTCHours(0, 0, 0, 0);
  const range = (ms: number) => ({ range: { '@timestamp': { gte: now - ms, format: 'epoch_millis' } } });
  const [chat, logs]: any[] = await Promise.all([
    client.search({
      index: datasetPattern('chat'),
      size: 0,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: { bool: { filter: [{ term: { 'chat.type': 'message' } }, range(7 * 86_400_000), ...scoped], must_not: [{ term: { 'chat.is_bot': true } }] } },
      aggs: {
        hour: { filter: range(3_600_000) },
        day: { filter: range(86_400_000) },
        today: { filter: { range: { '@timestamp': { gte: dayStart.getTime(), format: 'epoch_millis' } } }, aggs: { users: { cardinality: { field: 'chat.user.id' } } } },
        users: { cardinality: { field: 'chat.user.id' } },
      },
    } as never),
    client.search({
      index: 'logs-*-*',
      size: 0,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: { bool: { filter: [range(86_400_000), ...scoped] } },
      aggs: {
        replies: { filter: { exists: { field: 'chatbot.response_time_ms' } }, aggs: { avg: { avg: { field: 'chatbot.response_time_ms' } } } },
        errors: { terms: { field: 'error.type', size: 10 } },
      },
    } as never),
  ]);
  const a = chat.aggregations;
  const l = logs.aggregations;
  return {
    messages_last_hour: a?.hour.doc_count ?? 0,
    messages_last_24h: a?.day.doc_count ?? 0,
    active_users_today: a?.today.users.value ?? 0,
    active_users_7d: a?.users.value ?? 0,
    bot_response_ms_avg: l?.replies.avg.value === null || l?.replies.avg.value === undefined ? null : Math.round(l.replies.avg.value),
    bot_replies_24h: l?.replies.doc_count ?? 0,
    errors_24h: (l?.errors.buckets ?? []).map((b: any) => ({ type: b.key, count: b.doc_count })),
  };
}
