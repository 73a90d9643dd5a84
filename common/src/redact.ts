// Redaction: secrets are masked on the agent, before a line leaves the host, and again by the
// collector in what it sends to external services (the LLM, Jira) — one redactor for both.
// What was redacted is counted per kind (for metrics), never logged.
//
// Card numbers: Luhn alone passes one long number in ten, and real logs are full of long
// numbers (HDFS block ids, epoch values, BGL/Thunderbird headers). A masked block id or
// timestamp is corrupted data, so a card must look like a card three ways: its shape
// (13-19 digits, contiguous or in an issuer's print layout, standing alone as a token),
// its issuer prefix and length, and its Luhn check digit.

export interface RedactConfig {
  card_numbers: boolean;
  bearer_tokens: boolean;
  api_keys: boolean;
  passwords: boolean;
  emails: boolean;
}

export const REDACT_DEFAULTS: RedactConfig = { card_numbers: true, bearer_tokens: true, api_keys: true, passwords: true, emails: false };
export type RedactionKind = keyof RedactConfig;

// Card-shaped candidates: 13-19 contiguous digits, or the layouts cards are printed in -
// 4-4-4-4 (16), 4-4-4-4-1..3 (17-19), 4-6-5 (Amex 15), 4-6-4 (Diners 14) - with one kind of
// single separator throughout (space or dash; \1 and \2 forbid mixing). 13-15 digits in
// groups of four (4-4-4-1..3) are left out on purpose: those cards are printed 4-6-x (Amex,
// Diners) or contiguous (13-digit Visa), and the shape is that of IBAN tails
// ("GB29 NWBK 6016 1331 9268 19").
// The lookbehind keeps a match from starting inside a token: an identifier (blk_3110…,
// ORD-…), a signed or joined number (-1608…, 2024-…), a dotted one (10.4111…, v1.4111…) or a
// phone number (+4915…). The lookahead keeps it from ending inside one: letters or digits
// (…abc), a decimal or dotted tail (.25, .11.09) or a dash-joined suffix (-2).
// A URL-encoded separator (%3D "=", %22 '"', %20 " ", %2C ",", %3A ":") before the number
// counts as a boundary: access logs carry query strings such as pan%3D4111….
const CARD_CANDIDATE = /(?:(?<=%[0-9A-Fa-f]{2})|(?<![\w.+-]))(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\w|[.-]\d)/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
// HTTP basic credentials: "Basic" and base64 of user:password (checked when decoding, so
// "Basic authentication failed" stays).
const BASIC = /\b(Basic)\s+([A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])/g;
// key=value, key: value and "key": "value" forms of API keys and secrets; the key may carry a
// prefix (x_api_key, db_token, "client_secret", AWS_SECRET_ACCESS_KEY …).
const API_KEY_FIELD = /((?:["']|\b)[A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|access[_-]?token|access[_-]?key|client[_-]?secret|secret[_-]?key|auth[_-]?token|private[_-]?key|secret|token)["']?\s*[:=]\s*["']?)([^\s"'&,;}]{4,})/gi;
// well-known token shapes: OpenAI, AWS access key ids, Slack, GitHub, Stripe
const API_KEY_SHAPES = /\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|(?:sk|rk)_live_[A-Za-z0-9]{16,})\b/g;
// Cheap pre-checks, so the full patterns run only on lines that could match.
const API_KEY_HINT = /key|token|secret/i;
const CREDENTIAL_VALUE = /^[A-Za-z0-9._~+/=:-]+$/;
// Credentials in URLs: scheme://user:password@host.
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:)([^\s@/]+)(@)/gi;
// PEM private keys (RSA, EC, OpenSSH, PKCS#8), whole blocks.
const PRIVATE_KEY = /-----BEGIN ((?:[A-Z]+ )?PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;
const KEY_SHAPE_HINT = /sk-|AKIA|xox|gh[pousr]_|_live_/;
const PASSWORD_HINT = /p(?:ass)?w/i;
const BEARER_HINT = /bearer/i;
// password=…, "db_password": "…", DB_PASSWORD=…, mysql_pwd=… (the key may carry a prefix).
// A bare upper-case PWD= is the shell's working directory (sudo logs), not a password.
/** Values of a password key that say whether one was used, not what it is (MySQL's "using password: YES"), or that are already masked. */
const NOT_A_SECRET = /^(?:yes|no|true|false|none|null|nil|empty|\*+|\[REDACTED\])?$/i;
const PASSWORD_FIELD = /((?:["']|\b)(?!PWD=)[A-Za-z0-9_.-]*?(?:password|passwd|pwd)["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s&,;}]+)/gi;
const EMAIL = /\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/g;

// Issuer (IIN) prefix ranges and the lengths each issuer uses. A candidate is a card only if
// some issuer uses its prefix at its length: no issuer starts with 0, 1, 7, 8 or 9, nor with
// 19xx-21xx, which is what keeps epoch seconds/ms/us/ns (1…) and yyyyMMddHHmmss timestamps
// (19…/20…) out, whatever their check digit. `wide`: the length this issuer prints as 4-6-x
// (Amex 4-6-5, Diners 4-6-4); the other issuers print groups of four.
const ISSUERS = [
  { name: 'visa', prefixes: ['4'], lengths: [13, 16, 19] },
  { name: 'mastercard', prefixes: ['51-55', '2221-2720'], lengths: [16] },
  { name: 'amex', prefixes: ['34', '37'], lengths: [15], wide: 15 },
  { name: 'discover', prefixes: ['6011', '644-649', '65', '622126-622925'], lengths: [16, 17, 18, 19] },
  { name: 'diners', prefixes: ['300-305', '36', '38-39'], lengths: [14, 15, 16, 17, 18, 19], wide: 14 },
  { name: 'jcb', prefixes: ['3528-3589'], lengths: [16, 17, 18, 19] },
  { name: 'unionpay', prefixes: ['62'], lengths: [16, 17, 18, 19] },
  // Maestro is issued at 12-19 digits; 12 is left out: 12-digit numbers are everywhere in
  // logs, 12-digit cards are rare.
  { name: 'maestro', prefixes: ['50', '56-69'], lengths: [13, 14, 15, 16, 17, 18, 19] },
  { name: 'mir', prefixes: ['2200-2204'], lengths: [16, 17, 18, 19] },
].map(({ name, prefixes, lengths, wide = 0 }) => ({
  name,
  wide,
  lengths: new Set(lengths),
  ranges: prefixes.map((r) => {
    const [lo, hi = lo] = r.split('-');
    return { width: lo.length, lo: Number(lo), hi: Number(hi) };
  }),
}));

/** Whether an issuer uses this prefix at this length (`wideOnly`: and prints that length as 4-6-x). */
function issuerAccepts(digits: string, wideOnly: boolean): boolean {
  for (const issuer of ISSUERS) {
    if ((wideOnly && issuer.wide !== digits.length) || !issuer.lengths.has(digits.length)) continue;
    for (const r of issuer.ranges) {
      const p = leadingNumber(digits, r.width);
      if (p >= r.lo && p <= r.hi) return true;
    }
  }
  return false;
}

/** The first `width` digits as a number, without slicing a string. */
function leadingNumber(digits: string, width: number): number {
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 10 + digits.charCodeAt(i) - 48;
  return n;
}

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

  /** The mask for these digits if they are a card number (issuer prefix and length, then Luhn), counted. */
  private maskIfCard(digits: string, wide: boolean): string | undefined {
    if (!issuerAccepts(digits, wide) || !luhnValid(digits)) return undefined;
    this.counts.card_numbers++;
    return `[REDACTED-CARD-${digits.slice(-4)}]`;
  }

  /**
   * Could redact() mask anything in this text? False only when none of its pre-checks (the
   * same ones redact() runs) matches — then redact() returns the text unchanged, and any
   * part of it too: every pre-check is a search for a substring. (Text that decodes to
   * something else, JSON escapes, is the caller's to rule out.)
   */
  mayMask(text: string): boolean {
    const c = this.cfg;
    return (
      (c.card_numbers && hasDigitRun(text)) ||
      (c.bearer_tokens && (BEARER_HINT.test(text) || text.includes('Basic'))) ||
      (c.passwords && (text.includes('://') || PASSWORD_HINT.test(text))) ||
      (c.api_keys && (text.includes('PRIVATE KEY-----') || API_KEY_HINT.test(text) || KEY_SHAPE_HINT.test(text))) ||
      (c.emails && text.includes('@'))
    );
  }

  redact(line: string): string {
    let out = line;
    if (this.cfg.card_numbers && hasDigitRun(out)) {
      out = out.replace(CARD_CANDIDATE, (m: string, sepFours: string | undefined, sepWide: string | undefined, at: number, s: string) => {
        const sep = sepFours ?? sepWide;
        if (sep === undefined) return this.maskIfCard(m, false) ?? m;
        // Grouped: a 4-character group with a digit next to it, across the same separator,
        // means the grouping goes on (digit dumps, IBANs), so this is part of a longer number.
        if ((s[at - 1] === sep && isGroupOfFour(s, at - 2, -1)) || (s[at + m.length] === sep && isGroupOfFour(s, at + m.length + 1, 1))) return m;
        const wide = sepWide !== undefined;
        const masked = this.maskIfCard(m.split(sep).join(''), wide);
        if (masked) return masked;
        // 4-4-4-4 plus a short group that is not part of the card (a CVV or a count after it).
        if (m.length > 19 && !wide) {
          const head = this.maskIfCard(m.slice(0, 19).split(sep).join(''), false);
          if (head) return head + m.slice(19);
        }
        return m;
      });
    }
    if (this.cfg.bearer_tokens && BEARER_HINT.test(out)) {
      out = out.replace(BEARER, (_m, word: string) => {
        this.counts.bearer_tokens++;
        return `${word} [REDACTED]`;
      });
    }
    if (this.cfg.bearer_tokens && out.includes('Basic')) {
      out = out.replace(BASIC, (m, word: string, b64: string) => {
        if (!Buffer.from(b64, 'base64').toString('latin1').includes(':')) return m;
        this.counts.bearer_tokens++;
        return `${word} [REDACTED]`;
      });
    }
    if (this.cfg.passwords && out.includes('://')) {
      out = out.replace(URL_CREDENTIALS, (_m, head: string, _pw: string, at: string) => {
        this.counts.passwords++;
        return `${head}[REDACTED]${at}`;
      });
    }
    if (this.cfg.api_keys && out.includes('PRIVATE KEY-----')) {
      out = out.replace(PRIVATE_KEY, () => {
        this.counts.api_keys++;
        return '[REDACTED-PRIVATE-KEY]';
      });
    }
    if (this.cfg.api_keys && API_KEY_HINT.test(out)) {
      out = out.replace(API_KEY_FIELD, (m, key: string, value: string) => {
        // Keys and tokens are long runs of token characters: "Token: Token { kind: … }" and
        // Android's "token=Token{a64f992 …}" are object dumps, not secrets.
        if (!CREDENTIAL_VALUE.test(value) || !(value.length >= 16 || (value.length >= 8 && /\d/.test(value)))) return m;
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
    if (this.cfg.passwords && PASSWORD_HINT.test(out)) {
      out = out.replace(PASSWORD_FIELD, (match: string, key: string, value: string) => {
        if (value.startsWith('"')) {
          if (NOT_A_SECRET.test(value.slice(1, -1))) return match;
          this.counts.passwords++;
          return `${key}"[REDACTED]"`;
        }
        // Closing brackets the value did not open are the text's (MySQL's "(using password: YES)").
        let end = value.length;
        while (end > 0 && ((value[end - 1] === ')' && !value.includes('(')) || (value[end - 1] === ']' && !value.includes('[')))) end--;
        if (NOT_A_SECRET.test(value.slice(0, end))) return match;
        this.counts.passwords++;
        return `${key}[REDACTED]${value.slice(end)}`;
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

/** A run of exactly four letters/digits, at least one a digit, starting at `from` and read in `step` direction. */
function isGroupOfFour(s: string, from: number, step: 1 | -1): boolean {
  let len = 0;
  let digit = false;
  for (let i = from; i >= 0 && i < s.length; i += step) {
    const c = s.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    if (!isDigit && !((c | 32) >= 97 && (c | 32) <= 122)) break;
    digit ||= isDigit;
    if (++len > 4) return false;
  }
  return len === 4 && digit;
}

// Cheap pre-check: every card candidate starts with four digits followed, after at most one
// separator, by four more. A native regex test is ~3x faster here than a charCodeAt loop, and
// allocates nothing.
const CARD_HINT = /\d{4}[ -]?\d{4}/;
function hasDigitRun(s: string): boolean {
  return CARD_HINT.test(s);
}
