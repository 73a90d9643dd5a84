// Formats docker and cri: the container runtime's envelope was already taken off the line
// (container-envelope.ts joined partial lines); what is left is the application's text.
import type { ParseContext, ParsedLine } from './parse-error.js';
import { parseTimestamp } from './timestamp.js';

export function parseContainerLine(line: string, ctx: ParseContext): ParsedLine {
  const env = ctx.envelope;
  const parsed: ParsedLine = { message: line };
  if (env?.time !== undefined) parsed.timestamp = parseTimestamp(env.time, ctx.timeZone);
  // Filebeat's container input names the stream the same way.
  if (env?.stream !== undefined) parsed.fields = { stream: env.stream };
  return parsed;
}
