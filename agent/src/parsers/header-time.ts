// The times log headers are written with → ISO-8601 UTC. Wider than parseTimestamp (which
// reads values meant to be timestamps): a header's time is often without a zone, sometimes
// without a year, in one of a dozen layouts. Zone-less times are read in the input's
// `timezone`; a time without a year takes the current one, and rolls back a year when that
// puts it more than a day in the future (rsyslog's rule: December's lines read in January).
//
//   2015-10-18 18:01:47,978 · 2017/05/16 00:00:00 · 2005-06-03-15.42.50.675872 · 2024-11-16T10:30:00.123+01:00
//   2024-03-11 07:16:45.618 UTC (PostgreSQL's %m; other zone names are read in the input's timezone)
//   081109 203615 (yyMMdd HHmmss) · 20171223-22:15:29:606 · 17/06/09 20:10:40 (yy/MM/dd)
//   Jun 14 15:16:01 (syslog) · Sun Dec 04 04:47:44 2005 (ctime, Apache) · 16/Nov/2024:10:30:00 +0000 (CLF, and with a space: Django)
//   03-17 16:13:38.811 (logcat) · 10.30 16:49:06 (MM.dd) · 16-Nov-2024 10:30:00.123 (Tomcat) · 1131566461 (epoch)
import { parseTimestamp } from './timestamp.js';

const MONTH: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAY_MS = 86_400_000;
/** Year marker of a time of day written without a date. */
const TODAY = -1;

/** [year | undefined (none written), month, day, hour, minute, second, fraction digits, zone] */
type Parts = [number | undefined, number, number, number, number, number, string, string | undefined];
type Reader = (m: RegExpExecArray) => Parts | undefined;

const year2 = (yy: string) => (Number(yy) < 70 ? 2000 : 1900) + Number(yy);
const month = (name: string) => MONTH[name.slice(0, 3).toLowerCase()];
const n = Number;

/** Layouts, tried in order (the one that read the previous header is tried first). */
const LAYOUTS: [RegExp, Reader][] = [
  // ISO-like: - / . between date parts; T, space(s) or - before the time; : or . in it; fraction after . , or :
  [/^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]+|-)(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,:](\d{1,9}))?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?,?$/,
    (m) => [n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6] ?? 0), m[7] ?? '', m[8]]],
  // yyMMdd HHmmss (HDFS)
  [/^(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})$/, (m) => [year2(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6]), '', undefined]],
  // yyyyMMdd[-| |T]HH[:]mm[:]ss[.,fff]; yyyyMMdd-H:m:s:SSS (a colon before milliseconds, numbers unpadded)
  [/^((?:19|20)\d{2})(\d{2})(\d{2})[-T ]?(\d{2}):?(\d{2}):?(\d{2})(?:[.,](\d{1,9}))?$/, (m) => [n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', undefined]],
  [/^((?:19|20)\d{2})(\d{2})(\d{2})[-T ](\d{1,2}):(\d{1,2}):(\d{1,2})(?::(\d{1,3}))?$/, (m) => [n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6]), m[7] ? m[7].padStart(3, '0') : '', undefined]],
  // yy/MM/dd HH:mm:ss (log4j's %d{yy/MM/dd HH:mm:ss}, Spark)
  [/^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/, (m) => [year2(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', undefined]],
  // MMM d HH:mm:ss[.fff] [yyyy] (syslog; the year is optional)
  [/^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:\s+(\d{4}))?$/,
    (m) => [m[7] ? n(m[7]) : undefined, month(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), m[6] ?? '', undefined]],
  // EEE MMM d HH:mm:ss[.ffffff] yyyy (ctime; Apache's error log)
  [/^[A-Z][a-z]{2},? ([A-Z][a-z]{2})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (\d{4})$/,
    (m) => [n(m[7]), month(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), m[6] ?? '', undefined]],
  // dd/MMM/yyyy:HH:mm:ss Z (Common Log Format); dd/MMM/yyyy HH:mm:ss (Django's runserver)
  [/^(\d{2})\/([A-Z][a-z]{2})\/(\d{4})[: ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:\s*([+-]\d{4}))?$/,
    (m) => [n(m[3]), month(m[2]), n(m[1]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', m[8]]],
  // dd-MMM-yyyy HH:mm:ss.SSS (Tomcat, Java) and dd MMM yyyy HH:mm:ss
  [/^(\d{1,2})[- ]([A-Z][a-z]{2})[- ](\d{4})[ :](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/,
    (m) => [n(m[3]), month(m[2]), n(m[1]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', undefined]],
  // MM-dd HH:mm:ss.SSS (Android logcat, no year)
  [/^(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/, (m) => [undefined, n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), m[6] ?? '', undefined]],
  // MMdd HH:mm:ss.uuuuuu (glog / klog, no year)
  [/^(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/, (m) => [undefined, n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), m[6] ?? '', undefined]],
  // MM.dd HH:mm:ss (no year; Proxifier)
  [/^(\d{2})\.(\d{2}) (\d{2}):(\d{2}):(\d{2})$/, (m) => [undefined, n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5]), '', undefined]],
  // dd.MM.yyyy HH:mm:ss and MM/dd/yyyy HH:mm:ss
  [/^(\d{2})\.(\d{2})\.(\d{4})[ ,]+(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/, (m) => [n(m[3]), n(m[2]), n(m[1]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', undefined]],
  [/^(\d{2})\/(\d{2})\/(\d{4})[ ,]+(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/, (m) => [n(m[3]), n(m[1]), n(m[2]), n(m[4]), n(m[5]), n(m[6]), m[7] ?? '', undefined]],
  // HH:mm:ss[.SSS] alone (logback's and log4j2's default layouts): today, or yesterday if that is ahead
  [/^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/, (m) => [TODAY, 0, 0, n(m[1]), n(m[2]), n(m[3]), m[4] ?? '', undefined]],
];
// Epoch seconds (10 digits, 2001–2286) or milliseconds (13), as headers write them.
const EPOCH = /^1\d{9}(?:\.\d{1,9})?$|^1\d{12}$/;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * UTC ms → ISO-8601 (…Z), for years 0–9999: Date#toISOString costs a microsecond in Node 20,
 * more than reading the header; this is arithmetic (days → civil date, H. Hinnant's algorithm).
 */
function isoOf(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const s = Math.floor(rest / 1000);
  const milli = rest - s * 1000;
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

const offsetCache = new Map<string, number>();

/** The zone's offset at a wall-clock time, looked up once per zone and wall-clock hour. */
function offsetAt(wallMs: number, timeZone: string): number {
  const hour = Math.floor(wallMs / 3_600_000) * 3_600_000;
  const key = `${timeZone}|${hour}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    off = hour - Date.parse(parseTimestamp(new Date(hour).toISOString().slice(0, 19), timeZone));
    if (offsetCache.size > 10_000) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off;
}

function toIso(p: Parts, timeZone: string, now: number): string | undefined {
  let [y, mo, d] = p;
  const [, , , h, mi, s, frac, zone] = p;
  if (y === TODAY) {
    // A time of day alone: the zone's date now, or the day before when that is over an hour ahead.
    const local = new Date(now + (timeZone === 'UTC' ? 0 : offsetAt(now, timeZone)));
    y = local.getUTCFullYear();
    mo = local.getUTCMonth() + 1;
    d = local.getUTCDate();
    const iso = toIso([y, mo, d, h, mi, s, frac, zone], timeZone, now);
    if (iso === undefined || Date.parse(iso) <= now + 3_600_000) return iso;
    const before = new Date(Date.UTC(y, mo - 1, d) - DAY_MS);
    return toIso([before.getUTCFullYear(), before.getUTCMonth() + 1, before.getUTCDate(), h, mi, s, frac, zone], timeZone, now);
  }
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60)) return undefined;
  const milli = frac === '' ? 0 : frac.length >= 3 ? Number(frac.slice(0, 3)) : Number(frac.padEnd(3, '0'));
  const wallOf = (year: number) =>
    // 31 April, 29 February of a common year: no date
    d <= (mo === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : MONTH_DAYS[mo - 1]) ? Date.UTC(year, mo - 1, d, h, mi, Math.min(s, 59), milli) : undefined;
  const toUtc = (wall: number) => {
    if (zone === undefined) return timeZone === 'UTC' ? wall : wall - offsetAt(wall, timeZone);
    if (zone === 'Z' || zone === 'z' || zone === 'UTC' || zone === 'GMT') return wall;
    const digits = zone.slice(1).replace(':', '');
    return wall - (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
  };
  let utc: number | undefined;
  if (y !== undefined) {
    const wall = wallOf(y);
    utc = wall === undefined ? undefined : toUtc(wall);
  } else {
    // No year written: this year, or last year if that is more than a day ahead (rsyslog).
    const year = new Date(now).getUTCFullYear();
    let wall = wallOf(year);
    utc = wall === undefined ? undefined : toUtc(wall);
    if (utc === undefined || utc > now + DAY_MS) {
      wall = wallOf(year - 1);
      utc = wall === undefined ? undefined : toUtc(wall);
    }
  }
  if (utc === undefined || !Number.isFinite(utc) || utc < -62167219200000 || utc >= 253402300800000) return undefined; // years 0000–9999
  const iso = isoOf(utc);
  // Keep sub-millisecond digits: Elasticsearch's date type reads up to nanoseconds.
  return frac.length > 3 ? `${iso.slice(0, 20)}${frac}Z` : iso;
}

/** Filled in by a reader: whether the time read had its year (or date) written. */
export interface HeaderTimeInfo {
  complete: boolean;
}

/** Reads a header's time text → ISO-8601 UTC, or undefined when it is no time it knows. */
export type HeaderTimeReader = (text: string, info?: HeaderTimeInfo) => string | undefined;

/**
 * A reader of header times for one zone. It remembers the layout that read the last time and
 * tries it first (a file's headers share one layout), so the usual cost is one RegExp.
 */
export function headerTimeReader(timeZone = 'UTC', now: () => number = Date.now): HeaderTimeReader {
  let last = 0;
  const read = (i: number, text: string, info?: HeaderTimeInfo): string | undefined => {
    const m = LAYOUTS[i][0].exec(text);
    if (!m) return undefined;
    const p = LAYOUTS[i][1](m);
    if (!p) return undefined;
    const iso = toIso(p, timeZone, p[0] === undefined || p[0] === TODAY ? now() : 0);
    if (iso && info) info.complete = p[0] !== undefined && p[0] !== TODAY;
    return iso;
  };
  return (raw, info) => {
    const text = raw.length > 0 && (raw.charCodeAt(0) === 32 || raw.charCodeAt(raw.length - 1) === 32) ? raw.trim() : raw;
    let iso = read(last, text, info);
    if (iso) return iso;
    for (let i = 0; i < LAYOUTS.length; i++) {
      if (i === last) continue;
      iso = read(i, text, info);
      if (iso) {
        last = i;
        return iso;
      }
    }
    if (EPOCH.test(text)) {
      if (info) info.complete = true;
      return isoOf(text.length === 13 ? Number(text) : Math.round(Number(text) * 1000));
    }
    return undefined;
  };
}
