// Field names taken from application JSON, in the snake_case our mappings use.
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
