// The POS service's log format:
//   [2024-11-16T10:30:00Z] [CRITICAL] Pricing error in order | {"orderId":"…","storeNumber":"STORE_001",…}
// The " | {json}" tail is optional. Its keys go under pos.* in snake_case, with the POS'
// names mapped to ours (storeNumber → pos.store_id, kioskNumber → pos.kiosk_id); errorType
// becomes the ECS error.type.
import { ParseError, type ParseContext, type ParsedLine } from './parse-error.js';
import { parseTimestamp } from './timestamp.js';
import { snakeCase } from './field-names.js';
import { checkJsonDepth } from './json.js';

const HEAD = /^\[([^\]]+)\]\s+\[([A-Za-z]+)\]\s?(.*)$/s;
const TAIL_SEPARATOR = ' | {';

const RENAMES: Record<string, string> = {
  storeNumber: 'store_id',
  storeId: 'store_id',
  kioskNumber: 'kiosk_id',
  kioskId: 'kiosk_id',
  orderId: 'order_id',
  productId: 'product_id',
  productName: 'product_name',
  invoiceNumber: 'invoice_number',
};

export function parsePosLine(line: string, ctx: ParseContext): ParsedLine {
  const head = HEAD.exec(line);
  if (!head) {
    throw new ParseError('pos.format', 'line does not match the pos format "[timestamp] [LEVEL] message | {json}"');
  }
  const timestamp = parseTimestamp(head[1], ctx.timeZone);
  const level = head[2].toLowerCase();
  let message = head[3];
  const cut = message.indexOf(TAIL_SEPARATOR);
  if (cut < 0) return { timestamp, level, message: message.trim() };

  const jsonText = message.slice(cut + 3);
  message = message.slice(0, cut).trim();
  checkJsonDepth(jsonText, 'pos');
  let data: unknown;
  try {
    data = JSON.parse(jsonText);
  } catch (err) {
    throw new ParseError('pos.json', `invalid JSON after " | ": ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ParseError('pos.json', 'the part after " | " must be a JSON object');
  }
  const pos: Record<string, unknown> = {};
  const fields: Record<string, unknown> = { pos };
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === 'errorType' || key === 'error_type') fields.error = { type: String(value) };
    else pos[RENAMES[key] ?? snakeCase(key)] = value;
  }
  return { timestamp, level, message, fields };
}
