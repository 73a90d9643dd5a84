// Any JSON object per line. ECS-shaped keys pass through; a time in @timestamp / timestamp /
// ts / time becomes @timestamp, message / msg becomes message, level / log.level the level.
import { ParseError, parseTimestamp, type ParsedLine } from './parse-error.js';

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

export function parseJsonLine(line: string): ParsedLine {
  const fields = parseJsonObject(line, 'json');
  let timestamp: string | undefined;
  for (const key of TIME_KEYS) {
    if (fields[key] !== undefined) {
      timestamp = parseTimestamp(fields[key]);
      delete fields[key];
      break;
    }
  }
  let message = '';
  for (const key of MESSAGE_KEYS) {
    if (fields[key] !== undefined) {
      message = typeof fields[key] === 'string' ? (fields[key] as string) : JSON.stringify(fields[key]);
      delete fields[key];
      break;
    }
  }
  let level: string | undefined;
  const rawLevel = fields.level ?? fields['log.level'];
  if (typeof rawLevel === 'string') {
    level = rawLevel.toLowerCase();
    delete fields.level;
    delete fields['log.level'];
  }
  return { timestamp, level, message, fields };
}

export function parsePlainLine(line: string): ParsedLine {
  return { message: line };
}
