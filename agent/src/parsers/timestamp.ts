// Timestamps as real logs write them → ISO-8601 UTC, the form Elasticsearch's date type reads.
//
// Accepted: ISO-8601 / RFC 3339 with `T` or a space, `.` or `,` before the fraction (up to
// nanoseconds), a zone as `Z`, `+01:00`, `+0100` or `+01`, or no zone (then the input's
// `timezone` applies); epoch numbers — seconds, milliseconds, microseconds or nanoseconds,
// told apart by magnitude (as Vector and Filebeat do) — as JSON numbers or digit strings;
// RFC 2822 / HTTP dates (`Tue, 01 Dec 2026 01:09:34 GMT`); Go's time.String(); the Common
// Log Format's `16/Nov/2024:10:30:00 +0000` (nginx, Apache); compact `20241116103000[123]`. Anything else is a ParseError
// naming the value, so the line goes to the dead-letter stream with its reason.
import { ParseError } from './parse-error.js';

/** Already what Elasticsearch's date type reads, in UTC: kept as it is, no Date round trip. */
const CANONICAL_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
// ISO-8601 / RFC 3339, and Go's time.String() (2024-11-16 10:30:00.123456789 +0000 UTC).
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?(?: [A-Z]{3,5})?$/;
// Common Log Format / nginx $time_local: 16/Nov/2024:10:30:00 +0000
const CLF = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\s*([+-]\d{4}))?$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// Compact yyyyMMddHHmmss[SSS], as digits: read as a date, not as an epoch in the year 2611.
const COMPACT = /^((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])([0-5]\d)([0-5]\d)(\d{3})?$/;
const RFC2822 = /^(?:[A-Z][a-z]{2},\s*)?\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:GMT|UTC|UT|[+-]\d{4})$/;
const DIGITS = /^-?\d{9,19}(?:\.\d+)?$/;

/** Epoch magnitude → unit: below 1e11 seconds (until year 5138), then ms, µs, ns. */
function fromEpoch(n: number): string | undefined {
  const abs = Math.abs(n);
  const ms = abs < 1e11 ? n * 1000 : abs < 1e14 ? n : abs < 1e17 ? n / 1000 : n / 1e6;
  // Seconds with a fraction round to the millisecond they mean (1497039058.81 s is …810 ms, not …809.9998).
  const d = new Date(abs < 1e11 ? Math.round(ms) : Math.trunc(ms));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC (ms) at a given instant. */
function zoneOffsetMs(timeZone: string, utcMs: number): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Wall-clock time in a zone → UTC ms (the offset is looked up at the result, so DST edges resolve). */
function wallClockToUtc(wallMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return wallMs;
  if (timeZone === 'local') return wallMs + new Date(wallMs).getTimezoneOffset() * 60_000;
  const first = wallMs - zoneOffsetMs(timeZone, wallMs);
  return wallMs - zoneOffsetMs(timeZone, first);
}

function fromIso(m: RegExpExecArray, timeZone: string): string | undefined {
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const nums = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  if (nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > 31 || nums[3] > 23 || nums[4] > 59 || nums[5] > 60) return undefined;
  let ms = Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], Math.min(nums[5], 59));
  if (new Date(ms).getUTCDate() !== nums[2]) return undefined; // 31 April and the like
  if (!zone) ms = wallClockToUtc(ms, timeZone);
  else if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
  }
  const iso = new Date(ms).toISOString();
  // Keep sub-millisecond digits: Elasticsearch's date type reads up to nanoseconds.
  return frac ? `${iso.slice(0, 19)}.${frac.padEnd(3, '0')}Z` : iso;
}

/** A timestamp of digits only: compact yyyyMMddHHmmss[SSS] when it is a calendar date, else an epoch. */
function fromDigits(digits: string, timeZone: string): string | undefined {
  const c = COMPACT.exec(digits);
  if (c) {
    const iso = fromIso(['', c[1], c[2], c[3], c[4], c[5], c[6], c[7] ?? '', ''] as unknown as RegExpExecArray, timeZone);
    if (iso) return iso;
  }
  return fromEpoch(Number(digits));
}

/** Normalize a timestamp to ISO-8601 UTC, or throw a ParseError naming it. */
export function parseTimestamp(value: unknown, timeZone = 'UTC'): string {
  let out: string | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) out = Number.isInteger(value) && value > 0 ? fromDigits(String(value), timeZone) : fromEpoch(value);
  else if (typeof value === 'string') {
    // The hot path (what our own formats write): only days 29–31 need a calendar check.
    if (CANONICAL_UTC.test(value) && (value.charCodeAt(8) < 50 || (value.charCodeAt(8) === 50 && value.charCodeAt(9) < 57) || new Date(value).getUTCDate() === Number(value.slice(8, 10)))) return value;
    const trimmed = value.trim();
    const iso = ISO.exec(trimmed);
    if (iso) out = fromIso(iso, timeZone);
    else if (DIGITS.test(trimmed)) out = trimmed.includes('.') || trimmed.startsWith('-') ? fromEpoch(Number(trimmed)) : fromDigits(trimmed, timeZone);
    else if (CLF.test(trimmed)) {
      const m = CLF.exec(trimmed)!;
      const month = MONTHS.indexOf(m[2]) + 1;
      if (month > 0) out = fromIso(['', m[3], String(month).padStart(2, '0'), m[1], m[4], m[5], m[6], '', m[7]] as unknown as RegExpExecArray, timeZone);
    }
    else if (RFC2822.test(trimmed)) {
      const ms = Date.parse(trimmed);
      if (!Number.isNaN(ms)) out = new Date(ms).toISOString();
    }
  }
  if (out !== undefined && !out.startsWith('+') && !out.startsWith('-')) return out;
  throw new ParseError('timestamp', `unparsable timestamp ${JSON.stringify(value)?.slice(0, 100)} (expected ISO-8601, e.g. 2024-11-16T10:30:00Z, or epoch seconds/milliseconds)`);
}
