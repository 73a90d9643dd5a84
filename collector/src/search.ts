// Full-text search across indexed logs and chat messages: GET /api/search and
// `/stacklens search`. Pages are stable and gapless: the first page opens a point in time
// (a frozen view of the indices), later pages continue it with search_after on
// [@timestamp desc, _shard_doc]. The cursor carries both; it lives 5 minutes per page.
import type { Client } from '@elastic/elasticsearch';
import { datasetPattern } from '@stacklens/common';

export const SEARCH_SOURCES = { chat: datasetPattern('chat'), pos: datasetPattern('pos'), chatbot: datasetPattern('chatbot') } as const;
export type SearchSource = keyof typeof SEARCH_SOURCES;
const KEEP_ALIVE = '5m';
export const MAX_SEARCH_SIZE = 500;
/**
 * Highlighting reads at most this many characters of a message. Elasticsearch refuses to
 * highlight past index.highlight.max_analyzed_offset (1,000,000) and fails the whole shard —
 * every other hit on it vanished from the page. Past this offset a long message is returned
 * without marks; it still matches.
 */
export const HIGHLIGHT_MAX_OFFSET = 100_000;
/** A hit carries at most this much of its message (a page of 500 hits of 4 MiB messages would be 2 GB). */
export const HIT_MESSAGE_CHARS = 32 * 1024;

/** Shard failures seen by searches (a page answered from part of the data). */
export const searchStats = { shardFailures: 0, partialPages: 0 };

export interface SearchRequest {
  /** An Elasticsearch filter the caller is confined to (security/team-scope.ts), when scoped. */
  scope?: Record<string, unknown>;
  q?: string;
  source?: SearchSource[];
  channel?: string;
  user?: string;
  from?: string;
  to?: string;
  size: number;
  search_after?: string;
  /** False when no next page will be asked for (the point in time is closed at once). */
  paginate?: boolean;
}

export interface SearchHit {
  id: string;
  '@timestamp': string;
  source: string;
  message: string;
  /** The message is longer than HIT_MESSAGE_CHARS: only its head is in `message`. */
  message_truncated?: boolean;
  message_length?: number;
  highlight: string[];
  chat?: Record<string, unknown>;
  service?: unknown;
  log?: unknown;
  error?: unknown;
}

export interface SearchPage {
  total: number;
  hits: SearchHit[];
  /** Pass as search_after for the next page; null on the last page. */
  next: string | null;
  /** Some shards failed: the page holds what the others answered. */
  partial?: boolean;
  warnings?: string[];
}

export class BadSearchCursor extends Error {}

function capMessage(message: unknown): { message: string; message_truncated?: boolean; message_length?: number } {
  const text = typeof message === 'string' ? message : JSON.stringify(message) ?? '';
  return text.length <= HIT_MESSAGE_CHARS ? { message: text } : { message: text.slice(0, HIT_MESSAGE_CHARS), message_truncated: true, message_length: text.length };
}

interface Cursor {
  pit: string;
  sort: unknown[];
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
const NOT_A_CURSOR = 'search_after: not a cursor from a previous page (pass "next" as it was returned)';
function decode(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    // The shape we hand out: [@timestamp as a string, _shard_doc as a number].
    if (typeof c?.pit === 'string' && c.pit.length < 4096 && Array.isArray(c.sort) && c.sort.length === 2 && typeof c.sort[0] === 'string' && Number.isSafeInteger(c.sort[1])) return c;
  } catch {
    // fall through
  }
  throw new BadSearchCursor(NOT_A_CURSOR);
}

/** The filters a search request and an export share (collector/src/search-export.ts). */
export type SearchFilters = Omit<SearchRequest, 'size' | 'search_after' | 'paginate'>;

/** The Elasticsearch query of a search's filters. */
export function searchQuery(req: SearchFilters): Record<string, unknown> {
  const filter: unknown[] = [];
  if (req.from || req.to) filter.push({ range: { '@timestamp': { gte: req.from, lte: req.to } } });
  if (req.scope) filter.push(req.scope);
  if (req.channel) {
    const c = req.channel.replace(/^#/, '');
    filter.push({ bool: { should: [{ term: { 'chat.channel.name': c } }, { term: { 'chat.channel.id': c } }], minimum_should_match: 1 } });
  }
  if (req.user) {
    const u = req.user.replace(/^@/, '');
    filter.push({ bool: { should: [{ term: { 'chat.user.name': u } }, { term: { 'chat.user.id': u } }], minimum_should_match: 1 } });
  }
  return {
    bool: {
      must: req.q?.trim() ? [{ simple_query_string: { query: req.q, fields: ['message'], default_operator: 'and' } }] : [],
      filter,
      must_not: [{ term: { 'chat.deleted': true } }],
    },
  };
}

/** The data streams a search reads: its sources, or all of them. */
export function searchIndices(req: SearchFilters): string {
  return (req.source?.length ? req.source : (Object.keys(SEARCH_SOURCES) as SearchSource[])).map((s) => SEARCH_SOURCES[s]).join(',');
}

/** Newest first; _shard_doc breaks ties within a point in time (cheapest tiebreaker). */
export const SEARCH_SORT = [{ '@timestamp': { order: 'desc', format: 'strict_date_optional_time_nanos' } }, { _shard_doc: 'asc' }];

export async function search(client: Client, req: SearchRequest): Promise<SearchPage> {
  const cursor = req.search_after === undefined ? undefined : decode(req.search_after);
  const query = searchQuery(req);
  let pit = cursor?.pit;
  if (!pit) pit = (await client.openPointInTime({ index: searchIndices(req), keep_alive: KEEP_ALIVE, ignore_unavailable: true })).id;
  let res: any;
  try {
    res = await client.search({
      size: req.size,
      pit: { id: pit, keep_alive: KEEP_ALIVE },
      query,
      sort: SEARCH_SORT,
      search_after: cursor?.sort as never,
      track_total_hits: true,
      highlight: { fields: { message: { number_of_fragments: 3, fragment_size: 200 } }, pre_tags: ['<mark>'], post_tags: ['</mark>'], max_analyzed_offset: HIGHLIGHT_MAX_OFFSET },
    } as never);
  } catch (err) {
    const type = (err as any)?.meta?.body?.error?.root_cause?.[0]?.type ?? (err as any)?.meta?.body?.error?.type;
    const status = (err as any)?.meta?.statusCode;
    if (cursor && (type === 'search_context_missing_exception' || status === 404)) {
      throw new BadSearchCursor('search_after: the cursor expired (pages live 5 minutes); search again from the first page');
    }
    // A cursor we did not hand out that still got past decode (a made-up point in time or sort values).
    if (cursor && status >= 400 && status < 500) throw new BadSearchCursor(NOT_A_CURSOR);
    throw err;
  }
  const hits: SearchHit[] = res.hits.hits.map((h: any) => ({
    id: h._id,
    '@timestamp': h._source['@timestamp'],
    source: h._source.data_stream?.dataset ?? h._source.event?.dataset ?? h._index,
    ...capMessage(h._source.message),
    highlight: h.highlight?.message ?? [],
    chat: h._source.chat,
    service: h._source.service,
    log: h._source.log ? { level: h._source.log.level, file: h._source.log.file?.path } : undefined,
    error: h._source.error,
  }));
  const last = res.hits.hits[res.hits.hits.length - 1];
  const more = req.paginate !== false && hits.length === req.size && last;
  // A point in time holds search contexts open in Elasticsearch: close it when no page follows.
  if (!more) void client.closePointInTime({ id: res.pit_id ?? pit }).catch(() => undefined);
  const page: SearchPage = { total: res.hits.total.value, hits, next: more ? encode({ pit: res.pit_id ?? pit, sort: last.sort }) : null };
  const failed = res._shards?.failed ?? 0;
  if (failed > 0) {
    // Say so: an empty or short page from part of the data must not pass for the whole answer.
    searchStats.shardFailures += failed;
    searchStats.partialPages++;
    page.partial = true;
    page.warnings = [...new Set<string>((res._shards.failures ?? []).map((f: any) => `${f.reason?.type ?? 'shard failure'}: ${String(f.reason?.reason ?? '').slice(0, 300)}`))];
  }
  return page;
}
