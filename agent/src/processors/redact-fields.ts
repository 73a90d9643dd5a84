// Redaction of a parsed event's values (formats json, chatbot, pos): applied after parsing,
// so masking never breaks the JSON it came in (a card-shaped epoch value would otherwise
// turn `1497039058810` into text that is no longer JSON). Each string value goes through
// the line redactor; a value under a key that names a secret (password, api_key, token,
// secret, …) is masked whole; a number that is card-shaped is masked like the same digits
// in text.
import type { Redactor } from '@stacklens/common';

const PASSWORD_KEY = /^(?:.*[_-])?(?:password|passwd|pwd|pass)$/i;
const SECRET_KEY = /^(?:.*[_-])?(?:api[_-]?key|apikey|x[_-]api[_-]key|access[_-]?token|auth[_-]?token|token|secret|client[_-]?secret|secret[_-]?key|private[_-]?key|authorization)$/i;
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
    if (typeof v === 'string') {
      if (allowPasswords && PASSWORD_KEY.test(key)) {
        value[key] = MASK;
        redactor.counts.passwords++;
      } else if (allowKeys && SECRET_KEY.test(key)) {
        value[key] = MASK;
        redactor.counts.api_keys++;
      } else value[key] = redactor.redact(v);
    } else if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) >= 1e12) {
        const digits = String(v);
        const masked = redactor.redact(digits);
        if (masked !== digits) value[key] = masked;
      }
    } else if (v !== null && typeof v === 'object') {
      redactFields(redactor, v as Record<string, unknown>, allowPasswords, allowKeys, depth + 1);
    }
  }
}

/** Key names redactFields masks whole, as substrings: a text without them has no such key. */
const PASSWORD_KEY_HINT = /pass|pwd/i;
const SECRET_KEY_HINT = /key|token|secret|authorization/i;

/**
 * Could redactFields change the object this JSON text stands for? False only when the text
 * has no escapes (every key and value is then a plain substring of it), nothing in it that
 * the redactor could mask, and no key name it masks whole — then the text can be sent as it
 * is, without parsing it.
 */
export function fieldsMayNeedRedaction(redactor: Redactor, json: string, allowPasswords: boolean, allowKeys: boolean): boolean {
  return json.includes('\\') || redactor.mayMask(json) || (allowPasswords && PASSWORD_KEY_HINT.test(json)) || (allowKeys && SECRET_KEY_HINT.test(json));
}
