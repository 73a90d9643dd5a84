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

export function parseJsonObject(line: string, format: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ParseError(`${format}.json`, `invalid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ParseError(`${format}.json`, 'expected one JSON object per line');
  }
  return value as Record<string, unknown>;
}

const TIME_KEYS = ['@timestamp', 'timestamp', 'ts', 'time'];
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

/** Move plain values of ECS object fields under the sub-field that holds them. */
export function nestEcsValues(fields: Record<string, unknown>): void {
  for (const key in ECS_OBJECT_VALUE) {
    const value = fields[key];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      fields[key] = { [ECS_OBJECT_VALUE[key]]: value };
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
  if (typeof rawLevel === 'string') {
    level = rawLevel.toLowerCase();
    delete fields.level;
    delete fields['log.level'];
  }
  nestEcsValues(fields);
  return { timestamp, level, message: message ?? '', fields };
}

export function parsePlainLine(line: string): ParsedLine {
  return { message: line };
}
