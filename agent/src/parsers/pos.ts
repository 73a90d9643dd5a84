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

/** The field name of a tail key (an own key of RENAMES only: `constructor` is not a rename). */
const fieldName = (key: string): string => (Object.hasOwn(RENAMES, key) ? RENAMES[key] : snakeCase(key));

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
  const fieldsJson = flatTailJson(jsonText);
  if (fieldsJson !== undefined) return { timestamp, level, message, fieldsJson };
  return { timestamp, level, message, fields: tailFields(jsonText) };
}

/** The tail's fields, parsed: `pos.*` (renamed keys) and `error.type`. */
export function tailFields(jsonText: string): Record<string, unknown> {
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
    else pos[fieldName(key)] = value;
  }
  return fields;
}

// ── The tail without parsing it ──
// What the POS writes is a flat object of plain strings and short numbers. Such a tail is
// rewritten as text — keys renamed, values copied — into exactly the members tailFields'
// object serializes to, with no object built; anything else (nesting, escapes, long or
// exponent numbers, a key twice, invalid JSON) returns undefined and goes through
// tailFields, which also words the errors. parsers.test.ts holds the two to each other.

/** `"pos_key":` for each tail key seen (the same few keys repeat on every line). */
const memberPrefix = new Map<string, string>();

function prefixOf(key: string): string {
  let p = memberPrefix.get(key);
  if (p === undefined) {
    p = `${JSON.stringify(fieldName(key))}:`;
    if (memberPrefix.size < 10_000) memberPrefix.set(key, p);
  }
  return p;
}

const isJsonSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The keys of the last tail, by position: a writer puts the same keys in the same order on
 * every line, so a key is usually recognized where it was last time without slicing it out
 * and looking it up.
 */
const keysAt: string[] = [];
/** prefixOf(keysAt[i]). */
const prefixesAt: string[] = [];

// Sticky patterns (native scanning, nothing allocated by test()): a string without escapes
// or control characters, and a number's shape.
const PLAIN_STRING = /"[^"\\\u0000-\u001f]*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?![\d.eE])/y;

/** End of the plain string (no escapes, no control characters) opening at `i`, past its quote; -1 otherwise. */
function plainStringEnd(s: string, i: number): number {
  PLAIN_STRING.lastIndex = i;
  return PLAIN_STRING.test(s) ? PLAIN_STRING.lastIndex : -1;
}

/**
 * End of the number at `i` when JSON.parse then JSON.stringify would write it back as it is;
 * -1 otherwise (left to them): at most 15 digits, no exponent, no trailing fraction zero
 * (1.50), no -0, nothing below 1e-6 (written with an exponent).
 */
function shortNumberEnd(s: string, i: number): number {
  NUMBER.lastIndex = i;
  if (!NUMBER.test(s)) return -1;
  const end = NUMBER.lastIndex;
  const negative = s.charCodeAt(i) === 45;
  const dot = s.indexOf('.', i);
  const hasFraction = dot >= 0 && dot < end;
  if (end - i - (negative ? 1 : 0) - (hasFraction ? 1 : 0) > 15) return -1;
  if (hasFraction && s.charCodeAt(end - 1) === 48) return -1;
  const zeroInt = s.charCodeAt(negative ? i + 1 : i) === 48;
  if (zeroInt && !hasFraction && negative) return -1; // -0
  if (zeroInt && hasFraction && s.startsWith('000000', dot + 1)) return -1; // below 1e-6
  return end;
}

/** The members `"pos":{…}` (and `,"error":{"type":…}`) for a flat tail, or undefined. */
export function flatTailJson(s: string): string | undefined {
  let i = 0;
  while (isJsonSpace(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) !== 123) return undefined;
  i++;
  while (isJsonSpace(s.charCodeAt(i))) i++;
  let pos = '';
  let error: string | undefined;
  const seen: string[] = [];
  if (s.charCodeAt(i) !== 125) {
    for (let member = 0; ; member++) {
      if (s.charCodeAt(i) !== 34) return undefined;
      let key = keysAt[member];
      let prefix: string;
      if (key !== undefined && s.startsWith(key, i + 1) && s.charCodeAt(i + 1 + key.length) === 34) {
        i += key.length + 2;
        prefix = prefixesAt[member];
      } else {
        const keyEnd = plainStringEnd(s, i);
        if (keyEnd < 0) return undefined;
        key = s.slice(i + 1, keyEnd - 1);
        prefix = prefixOf(key);
        if (member < 64) {
          keysAt[member] = key;
          prefixesAt[member] = prefix;
        }
        i = keyEnd;
      }
      while (isJsonSpace(s.charCodeAt(i))) i++;
      if (s.charCodeAt(i) !== 58) return undefined;
      i++;
      while (isJsonSpace(s.charCodeAt(i))) i++;
      const c = s.charCodeAt(i);
      let end: number;
      if (c === 34) end = plainStringEnd(s, i);
      else if (c === 116) end = s.startsWith('true', i) ? i + 4 : -1;
      else if (c === 102) end = s.startsWith('false', i) ? i + 5 : -1;
      else if (c === 110) end = s.startsWith('null', i) ? i + 4 : -1;
      else end = shortNumberEnd(s, i);
      if (end < 0) return undefined;
      if (key === 'errorType' || key === 'error_type') {
        // error.type is the value as a string: a string value only (others go the long way).
        if (c !== 34 || error !== undefined) return undefined;
        error = s.slice(i, end);
      } else {
        // A key twice (or two keys renamed alike): JSON.parse keeps the last; left to it.
        if (seen.includes(prefix) || prefix === '"__proto__":') return undefined;
        seen.push(prefix);
        pos += (pos === '' ? '' : ',') + prefix + s.slice(i, end);
      }
      i = end;
      while (isJsonSpace(s.charCodeAt(i))) i++;
      const sep = s.charCodeAt(i++);
      if (sep === 125) break;
      if (sep !== 44) return undefined;
      while (isJsonSpace(s.charCodeAt(i))) i++;
    }
  } else i++;
  while (i < s.length) if (!isJsonSpace(s.charCodeAt(i++))) return undefined;
  return error === undefined ? `"pos":{${pos}}` : `"pos":{${pos}},"error":{"type":${error}}`;
}
