/** A line the agent could not parse. It is shipped anyway, to the dead-letter stream, with this reason. */
export class ParseError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a parser extracts from one line. The agent adds the source fields (file, offset, host, agent). */
export interface ParsedLine {
  /** ISO-8601 time of the event; absent when the format has none (then the read time is used). */
  timestamp?: string;
  level?: string;
  message: string;
  /** Further ECS / namespaced fields, e.g. { error: { type }, pos: { store_id } }. */
  fields?: Record<string, unknown>;
}

export type LineParser = (line: string) => ParsedLine;

/** Already what Elasticsearch's date type reads, in UTC: kept as it is, no Date round trip. */
const CANONICAL_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Normalize a timestamp to ISO-8601 UTC, or throw a ParseError naming it. */
export function parseTimestamp(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // epoch seconds or milliseconds
    return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  }
  if (typeof value === 'string') {
    if (CANONICAL_UTC.test(value)) return value;
    const trimmed = value.trim();
    if (ISO_WITH_ZONE.test(trimmed)) {
      const ms = Date.parse(trimmed.replace(' ', 'T'));
      if (!Number.isNaN(ms)) return new Date(ms).toISOString();
    }
  }
  throw new ParseError('timestamp', `unparsable timestamp ${JSON.stringify(value)} (expected ISO-8601 with a time zone, e.g. 2024-11-16T10:30:00Z)`);
}

const snakeCache = new Map<string, string>();

/** camelCase / kebab-case → snake_case, for field names taken from application JSON (memoized: the same few keys repeat on every line). */
export function snakeCase(key: string): string {
  let out = snakeCache.get(key);
  if (out === undefined) {
    out = key
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[-\s]+/g, '_')
      .toLowerCase();
    if (snakeCache.size < 10_000) snakeCache.set(key, out);
  }
  return out;
}
