// What Elasticsearch indexes for one _source value of a field of a given kind — the value
// a query then compares with. `undefined` means nothing is indexed: the value is too long
// for a keyword (ignore_above), or one Elasticsearch would coerce away or reject.
import { parseEsDate } from './es-dates.js';
import type { FieldMapping } from './field-mappings.js';
import { analyzeStandard } from './standard-analyzer.js';

/** A number as Elasticsearch reads one from JSON or from a string (coerce: true). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && NUMBER.test(raw)) return Number(raw);
  return undefined;
}

export function parseBoolean(raw: unknown): boolean | undefined {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  return undefined;
}

export function indexedKeyword(raw: unknown, m: FieldMapping): string | undefined {
  if (typeof raw === 'string') return m.ignoreAbove !== undefined && raw.length > m.ignoreAbove ? undefined : raw;
  // JSON numbers and booleans are indexed as their text (JavaScript's: 1.0 reads back as "1").
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

export function indexedNumber(raw: unknown, m: FieldMapping): number | undefined {
  const n = parseNumber(raw);
  if (n === undefined) return undefined;
  if (m.kind === 'long') return Math.trunc(n); // coerce: 2.7 is indexed as 2
  if (m.kind === 'float') return Math.fround(n);
  return n;
}

export function indexedDate(raw: unknown): number | undefined {
  return typeof raw === 'string' || typeof raw === 'number' ? parseEsDate(raw) : undefined;
}

export function indexedBoolean(raw: unknown): boolean | undefined {
  return raw === '' ? false : parseBoolean(raw);
}

/** Analyzed terms of a text value; a small cache, since several clauses often read one message. */
export function indexedTokens(raw: unknown): string[] | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return undefined;
  const text = String(raw);
  let tokens = tokenCache.get(text);
  if (!tokens) {
    if (tokenCache.size >= 64) tokenCache.clear();
    tokenCache.set(text, (tokens = analyzeStandard(text)));
  }
  return tokens;
}
const tokenCache = new Map<string, string[]>();

/** Whether anything is indexed for this value (what `exists` asks). */
export function isIndexed(raw: unknown, m: FieldMapping): boolean {
  switch (m.kind) {
    case 'text':
      return typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean';
    case 'keyword':
      return indexedKeyword(raw, m) !== undefined;
    case 'date':
      return indexedDate(raw) !== undefined;
    case 'boolean':
      return indexedBoolean(raw) !== undefined;
    default:
      return indexedNumber(raw, m) !== undefined;
  }
}
