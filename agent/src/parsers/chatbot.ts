// The chat bot's log format: one JSON object per line (documented in the README).
//   {"ts":"…","level":"info","event":"message_in","user_id":"u42","user_name":"Ana","text":"hi","conversation_id":"c9"}
//   {"ts":"…","event":"message_out","user_id":"u42","text":"Hello!","response_time_ms":245}
//   {"ts":"…","level":"error","event":"error","error_type":"LLM_TIMEOUT","error":"upstream timed out"}
import { ParseError, type ParseContext, type ParsedLine } from './parse-error.js';
import { parseTimestamp } from './timestamp.js';
import { snakeCase } from './field-names.js';
import { parseJsonObject } from './json.js';

const DIRECTION: Record<string, string> = { message_in: 'in', message_out: 'out' };
const WEEKDAYS = ['7-Sun', '1-Mon', '2-Tue', '3-Wed', '4-Thu', '5-Fri', '6-Sat'];
const CONSUMED = new Set(['ts', 'level', 'event', 'user_id', 'user_name', 'text', 'error', 'error_type']);

export function parseChatbotLine(line: string, ctx: ParseContext): ParsedLine {
  const obj = parseJsonObject(line, 'chatbot');
  if (obj.ts === undefined) throw new ParseError('chatbot.format', 'missing "ts" (the event time)');
  if (typeof obj.event !== 'string' || obj.event === '') throw new ParseError('chatbot.format', 'missing "event" (e.g. message_in, message_out, error)');
  const event = obj.event;
  const timestamp = parseTimestamp(obj.ts, ctx.timeZone);
  const level = typeof obj.level === 'string' ? obj.level.toLowerCase() : event === 'error' ? 'error' : 'info';

  // UTC hour and weekday, for "when are people talking" heat maps (Elasticsearch here has no scripting).
  const chatbot: Record<string, unknown> = { event, hour_of_day: Number(timestamp.slice(11, 13)), day_of_week: WEEKDAYS[new Date(timestamp).getUTCDay()] };
  if (DIRECTION[event]) chatbot.direction = DIRECTION[event];
  for (const [key, value] of Object.entries(obj)) {
    if (!CONSUMED.has(key)) chatbot[snakeCase(key)] = value;
  }
  const fields: Record<string, unknown> = { chatbot };
  if (obj.user_id !== undefined || obj.user_name !== undefined) {
    fields.user = { id: obj.user_id === undefined ? undefined : String(obj.user_id), name: obj.user_name };
  }
  if (obj.error !== undefined || obj.error_type !== undefined) {
    fields.error = { type: obj.error_type ?? 'CHATBOT_ERROR', message: obj.error === undefined ? undefined : String(obj.error) };
  }
  const message = typeof obj.text === 'string' ? obj.text : typeof obj.error === 'string' ? obj.error : event;
  return { timestamp, level, message, fields };
}
