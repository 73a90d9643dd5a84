// Redaction at the edge: secrets are masked on the agent, before a line leaves the host.
// Card numbers are validated with Luhn, so order ids and other long numbers are left alone.
// What was redacted is counted per kind (for metrics), never logged.

export interface RedactConfig {
  card_numbers: boolean;
  bearer_tokens: boolean;
  api_keys: boolean;
  passwords: boolean;
  emails: boolean;
}

export const REDACT_DEFAULTS: RedactConfig = { card_numbers: true, bearer_tokens: true, api_keys: true, passwords: true, emails: false };
export type RedactionKind = keyof RedactConfig;

const CARD_CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
// key=value, key: value and "key": "value" forms of API keys and secrets
const API_KEY_FIELD = /((?:"|\b)(?:api[_-]?key|apikey|x-api-key|access[_-]?token|client[_-]?secret|secret[_-]?key|auth[_-]?token)"?\s*[:=]\s*"?)([^\s"&,;}]{4,})/gi;
// well-known token shapes: OpenAI, AWS access key ids, Slack, GitHub, Stripe
const API_KEY_SHAPES = /\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|(?:sk|rk)_live_[A-Za-z0-9]{16,})\b/g;
// Cheap pre-checks, so the full patterns run only on lines that could match.
const API_KEY_HINT = /key|token|secret/i;
const KEY_SHAPE_HINT = /sk-|AKIA|xox|gh[pousr]_|_live_/;
const PASSWORD_FIELD = /((?:"|\b)(?:password|passwd|pwd)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s&,;}]+)/gi;
const EMAIL = /\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export class Redactor {
  readonly counts: Record<RedactionKind, number> = { card_numbers: 0, bearer_tokens: 0, api_keys: 0, passwords: 0, emails: 0 };

  constructor(private readonly cfg: RedactConfig) {}

  get enabled(): boolean {
    return Object.values(this.cfg).some(Boolean);
  }

  redact(line: string): string {
    let out = line;
    if (this.cfg.card_numbers && hasDigitRun(out)) {
      out = out.replace(CARD_CANDIDATE, (m) => {
        const digits = m.replace(/[ -]/g, '');
        if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return m;
        this.counts.card_numbers++;
        return `[REDACTED-CARD-${digits.slice(-4)}]`;
      });
    }
    if (this.cfg.bearer_tokens && out.includes('earer')) {
      out = out.replace(BEARER, (_m, word: string) => {
        this.counts.bearer_tokens++;
        return `${word} [REDACTED]`;
      });
    }
    if (this.cfg.api_keys && API_KEY_HINT.test(out)) {
      out = out.replace(API_KEY_FIELD, (_m, key: string) => {
        this.counts.api_keys++;
        return `${key}[REDACTED]`;
      });
    }
    if (this.cfg.api_keys && KEY_SHAPE_HINT.test(out)) {
      out = out.replace(API_KEY_SHAPES, () => {
        this.counts.api_keys++;
        return '[REDACTED-KEY]';
      });
    }
    if (this.cfg.passwords && /p(?:ass)?w/i.test(out)) {
      out = out.replace(PASSWORD_FIELD, (_m, key: string, value: string) => {
        this.counts.passwords++;
        return value.startsWith('"') ? `${key}"[REDACTED]"` : `${key}[REDACTED]`;
      });
    }
    if (this.cfg.emails && out.includes('@')) {
      out = out.replace(EMAIL, (_m, first: string, domain: string) => {
        this.counts.emails++;
        return `${first}***@${domain}`;
      });
    }
    return out;
  }
}

/** Cheap pre-check: 13+ digits in a row (allowing single separators) are needed for a card number. */
function hasDigitRun(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 13) return true;
    } else if (c !== 32 && c !== 45) run = 0;
  }
  return false;
}
