// Dates the way an Elasticsearch `date` field reads them (format
// strict_date_optional_time||epoch_millis, millisecond resolution), for the offline
// evaluation of term and range queries. Verified against Elasticsearch 8.14:
//   - "2024", "2024-01", "2024-01-01T10", "2024-01-01T10:00:00.123456789+01:00" are dates;
//     a 4-digit number is a year (2024 → 2024-01-01), other integers are epoch millis.
//   - Missing parts of a query bound are filled in when rounding up (lte, gt, and the upper
//     end of a term): month and day with 01 (not the end of the month!), the time with
//     23:59:59.999. So `lte: "2024-01"` ends at 2024-01-01T23:59:59.999.
// Anything outside this grammar is `undefined`: a query is refused, a document value is
// one Elasticsearch would have rejected.

export type DateFormat = 'strict_date_optional_time||epoch_millis' | 'strict_date_optional_time' | 'epoch_millis';
export const DATE_FORMATS: readonly DateFormat[] = ['strict_date_optional_time||epoch_millis', 'strict_date_optional_time', 'epoch_millis'];

export interface DateParseOptions {
  /** Fill missing parts with their maximum (lte, gt) rather than their minimum. */
  roundUp?: boolean;
  /** Offset in minutes applied to a date string without its own zone (range's time_zone). */
  zoneOffsetMinutes?: number;
  format?: DateFormat;
}

const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|UTC|[+-]\d{2}(?::?\d{2})?)?)?)?)?)?$/;
const EPOCH = /^(-?\d+)(?:\.\d+)?$/;

export function parseEsDate(value: unknown, opts: DateParseOptions = {}): number | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value : '';
  if (text === '') return undefined;
  const format = opts.format ?? 'strict_date_optional_time||epoch_millis';
  if (format !== 'epoch_millis') {
    const iso = parseIso(text, opts);
    if (iso !== undefined || format === 'strict_date_optional_time') return iso;
  }
  return parseEpochMillis(text);
}

function parseEpochMillis(text: string): number | undefined {
  const m = EPOCH.exec(text);
  if (!m) return undefined;
  // "-1000" is read as the year -1000 by strict_date_optional_time: not a case worth modelling.
  if (text.startsWith('-') && (text.includes('.') || m[1].length === 5)) return undefined;
  const ms = Number(m[1]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

function parseIso(text: string, opts: DateParseOptions): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const up = opts.roundUp === true;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? (up ? 23 : 0) : Number(m[4]);
  const minute = m[5] === undefined ? (up ? 59 : 0) : Number(m[5]);
  const second = m[6] === undefined ? (up ? 59 : 0) : Number(m[6]);
  const millis = m[7] === undefined ? (up ? 999 : 0) : Number(m[7].padEnd(9, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = m[8] === undefined ? (opts.zoneOffsetMinutes ?? 0) : zoneOffsetMinutes(m[8]);
  if (offset === undefined) return undefined;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offset * 60_000;
}

/** "Z", "UTC", "+01", "+0130", "-05:30" → minutes east of UTC; undefined if not one of these. */
export function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'UTC') return 0;
  const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(zone);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 18 || minutes > 59 || (hours === 18 && minutes > 0)) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
