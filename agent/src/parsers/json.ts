// Any JSON object per line. ECS-shaped keys pass through; a time in @timestamp / timestamp /
// ts / time becomes @timestamp, message / msg (or a string `log`, as Docker writes it)
// becomes message, level / log.level the level.
//
// Keys that ECS defines as objects (error, event, log, host, user, …) often hold a plain
// value in application logs (zap and logrus write "error":"connection refused"). Indexed as
// they are, they conflict with the mapping and the line would be dead-lettered — an error
// line no rule ever sees. They are moved to the ECS field that holds such a value instead
// (error → error.message, user → user.name, …).
import { ParseError, type ParseContext, type ParsedLine } from './parse-error.js';
import { parseTimestamp } from './timestamp.js';

/**
 * Deeper JSON than this is not an event: it cannot be encoded again (JSON.stringify recurses),
 * Elasticsearch refuses it, and one such line must not stop the agent. It is dead-lettered
 * as text instead. The collector applies the same limit (`max_depth`).
 */
export const MAX_JSON_DEPTH = 32;

/** Throws a ParseError if the JSON text nests objects/arrays deeper than MAX_JSON_DEPTH (counted on the text, before parsing). */
export function checkJsonDepth(text: string, format: string): void {
  // Cheap pre-check: fewer brackets than the limit cannot nest past it.
  let brackets = 0;
  for (let i = text.indexOf('{'); i >= 0 && brackets <= MAX_JSON_DEPTH; i = text.indexOf('{', i + 1)) brackets++;
  for (let i = text.indexOf('['); i >= 0 && brackets <= MAX_JSON_DEPTH; i = text.indexOf('[', i + 1)) brackets++;
  if (brackets <= MAX_JSON_DEPTH) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_JSON_DEPTH) throw new ParseError(`${format}.depth`, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 125 || c === 93) depth--;
  }
}

/**
 * Integers beyond 2^53 (int64 ids, nanosecond epochs) lose digits in JSON.parse: 20241116103000123
 * would be stored as …124. They are kept exactly, as strings, instead.
 */
export function quoteUnsafeIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      const token = text.slice(i, j);
      if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(last, i)}"${token}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

export function parseJsonObject(line: string, format: string): Record<string, unknown> {
  checkJsonDepth(line, format);
  let value: unknown;
  try {
    value = JSON.parse(quoteUnsafeIntegers(line));
  } catch (err) {
    throw new ParseError(`${format}.json`, `invalid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ParseError(`${format}.json`, 'expected one JSON object per line');
  }
  return value as Record<string, unknown>;
}

const TIME_KEYS = ['@timestamp', 'timestamp', 'ts', 'time'];
const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const MESSAGE_KEYS = ['message', 'msg'];

/** ECS object fields, and where a plain value of that name belongs. */
const ECS_OBJECT_VALUE: Record<string, string> = {
  error: 'message',
  event: 'action',
  log: 'message',
  host: 'name',
  user: 'name',
  service: 'name',
  agent: 'name',
  process: 'name',
  url: 'original',
  http: 'version',
  source: 'address',
  destination: 'address',
  client: 'address',
  server: 'address',
  file: 'path',
  container: 'id',
  labels: 'value',
  data_stream: 'dataset',
  stacklens: 'value',
};

/** Text of a plain value: the sub-fields that hold them are keyword/text, whatever type the first line used. */
const asText = (v: unknown): unknown => (v === null || typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Move plain values of ECS object fields under the sub-field that holds them. */
export function nestEcsValues(fields: Record<string, unknown>): void {
  for (const key in ECS_OBJECT_VALUE) {
    const value = fields[key];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      fields[key] = { [ECS_OBJECT_VALUE[key]]: Array.isArray(value) ? value.map(asText) : asText(value) };
    }
  }
}

export function parseJsonLine(line: string, ctx: ParseContext): ParsedLine {
  const fields = parseJsonObject(line, 'json');
  let timestamp: string | undefined;
  for (const key of TIME_KEYS) {
    if (fields[key] !== undefined) {
      timestamp = parseTimestamp(fields[key], ctx.timeZone);
      delete fields[key];
      break;
    }
  }
  let message: string | undefined;
  for (const key of MESSAGE_KEYS) {
    if (fields[key] !== undefined) {
      message = typeof fields[key] === 'string' ? (fields[key] as string) : JSON.stringify(fields[key]);
      delete fields[key];
      break;
    }
  }
  if (message === undefined && typeof fields.log === 'string') {
    // Docker's json-file shape read with format json: the text is the message.
    message = fields.log.endsWith('\n') ? fields.log.slice(0, fields.log.endsWith('\r\n') ? -2 : -1) : fields.log;
    delete fields.log;
  }
  let level: string | undefined;
  const rawLevel = fields.level ?? fields['log.level'];
  if (typeof rawLevel === 'string') level = rawLevel.toLowerCase();
  else if (typeof rawLevel === 'number') level = PINO_LEVELS[rawLevel]; // pino and bunyan write numbers
  if (level !== undefined) {
    delete fields.level;
    delete fields['log.level'];
  }
  nestEcsValues(fields);
  return { timestamp, level, message: message ?? '', fields };
}

export function parsePlainLine(line: string): ParsedLine {
  return { message: line };
}
