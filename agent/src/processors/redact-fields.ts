// Redaction of a parsed event's values (formats json, chatbot, pos): applied after parsing,
// so masking never breaks the JSON it came in (a card-shaped epoch value would otherwise
// turn `1497039058810` into text that is no longer JSON). Each string value goes through
// the line redactor; a value under a key that names a secret (password, api_key, token,
// secret, …, however the key is cased: userPassword, X-Auth-Token, api.key) is masked whole,
// whatever its type; a number that is card-shaped is masked like the same digits in text.
import type { Redactor } from '@stacklens/common';
import { snakeCase } from '../parsers/field-names.js';

const PASSWORD_KEY = /^(?:.*_)?(?:password|passwd|pwd|pass|passphrase|pin)$/;
const SECRET_KEY = /^(?:.*_)?(?:api_?key|x_api_key|access_?token|access_?key|auth_?token|token|secret|client_?secret|secret_?key|private_?key|authorization|credentials?|cookie)$/;

/** A key in one spelling for the patterns: snake_case, separators as `_`, lower case (userPassword, X-Auth-Token, api.key, "password "). */
const keyWordsCache = new Map<string, string>();
function keyWords(key: string): string {
  let words = keyWordsCache.get(key);
  if (words === undefined) {
    words = snakeCase(key.trim()).replace(/[.\s-]+/g, '_');
    if (keyWordsCache.size < 10_000) keyWordsCache.set(key, words);
  }
  return words;
}
const MASK = '[REDACTED]';
const CARD_IN_KEY = /\d{4}[ -]?\d{4}[ -]?\d{4}/;
const MAX_DEPTH = 64;

export function redactFields(redactor: Redactor, value: Record<string, unknown>, allowPasswords: boolean, allowKeys: boolean, depth = 0): void {
  if (depth > MAX_DEPTH) return;
  for (let key in value) {
    const v = value[key];
    if (key.length >= 13 && CARD_IN_KEY.test(key)) {
      // A card number used as a key ({"4111…": "declined"}) would become a field name.
      const masked = redactor.redact(key);
      if (masked !== key) {
        delete value[key];
        value[masked] = v;
        key = masked;
      }
    }
    if (v !== null && v !== undefined && (allowPasswords || allowKeys)) {
      const words = keyWords(key);
      if (allowPasswords && PASSWORD_KEY.test(words)) {
        value[key] = MASK;
        redactor.counts.passwords++;
        continue;
      }
      if (allowKeys && SECRET_KEY.test(words)) {
        value[key] = MASK;
        redactor.counts.api_keys++;
        continue;
      }
    }
    if (typeof v === 'string') {
      value[key] = redactor.redact(v);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) >= 1e12) {
        const digits = String(v); // signed: not a card, as in text (redact.ts)
        const masked = redactor.redact(digits);
        if (masked !== digits) value[key] = masked;
      }
    } else if (v !== null && typeof v === 'object') {
      redactFields(redactor, v as Record<string, unknown>, allowPasswords, allowKeys, depth + 1);
    }
  }
}

/** Key names redactFields masks whole, as substrings: a text without them has no such key. */
const PASSWORD_KEY_HINT = /pass|pwd|pin/i;
const SECRET_KEY_HINT = /key|token|secret|authorization|credential|cookie/i;

/**
 * Could redactFields change the object this JSON text stands for? False only when the text
 * has no escapes (every key and value is then a plain substring of it), nothing in it that
 * the redactor could mask, and no key name it masks whole — then the text can be sent as it
 * is, without parsing it.
 */
export function fieldsMayNeedRedaction(redactor: Redactor, json: string, allowPasswords: boolean, allowKeys: boolean): boolean {
  return json.includes('\\') || redactor.mayMask(json) || (allowPasswords && PASSWORD_KEY_HINT.test(json)) || (allowKeys && SECRET_KEY_HINT.test(json));
}
