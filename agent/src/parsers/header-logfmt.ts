// logfmt lines — key=value pairs, values quoted when they hold spaces — as Go programs write
// them: Docker and containerd (logrus: time="…" level=info msg="…" key=…), Prometheus and
// Loki (go-kit: ts=… caller=… level=info msg=…), Go's log/slog TextHandler (time=… level=INFO
// msg=…). The header is the time, level, caller and logger pairs; the message is msg's value
// followed by the other pairs as written (error="…", id=…, namespace=moby: what a person
// searches for, and what tells one event of a kind from another).
import type { ParsedLine } from './parse-error.js';
import { headerTimeReader, type HeaderTimeReader } from './header-time.js';
import { normalizeLevel, PATTERN_MISMATCH } from './header-generic.js';

const TIME_KEYS = new Set(['time', 'ts', 't', 'timestamp']);
const LEVEL_KEYS = new Set(['level', 'lvl', 'severity']);
const MESSAGE_KEYS = new Set(['msg', 'message']);
const LOGGER_KEYS = new Set(['logger', 'component', 'module']);
/** A key: what logfmt writers emit (letters, digits, _ . - /). */
const KEY = /^[A-Za-z_][\w./-]*$/;

interface Pair {
  key: string;
  value: string;
  /** Where the pair starts and ends in the line. */
  start: number;
  end: number;
}

/**
 * The line's pairs, or undefined when it does not start as logfmt (a bare word, an unterminated
 * quote). What cannot be read as pairs after some could (Traefik's `ACME CA="…"`, a key with a
 * space) is one last pair with an empty key: the rest of the line as written.
 */
export function logfmtPairs(line: string): Pair[] | undefined {
  const pairs: Pair[] = [];
  let i = 0;
  const n = line.length;
  const rest = (start: number) => {
    if (pairs.length === 0) return undefined;
    pairs.push({ key: '', value: line.slice(start), start, end: n });
    return pairs;
  };
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const start = i;
    const eq = line.indexOf('=', i);
    if (eq < 0) return rest(start);
    const key = line.slice(i, eq);
    if (!KEY.test(key)) return rest(start);
    i = eq + 1;
    let value = '';
    if (line.charCodeAt(i) === 34) {
      // "…" with backslash escapes
      i++;
      let out = '';
      let from = i;
      for (;;) {
        if (i >= n) return rest(start);
        const c = line.charCodeAt(i);
        if (c === 92 && i + 1 < n) {
          out += line.slice(from, i);
          const next = line[i + 1];
          out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
          from = i;
        } else if (c === 34) {
          out += line.slice(from, i);
          i++;
          break;
        } else i++;
      }
      value = out;
      if (i < n && line.charCodeAt(i) !== 32) return rest(start);
    } else {
      const sp = line.indexOf(' ', i);
      const e = sp < 0 ? n : sp;
      value = line.slice(i, e);
      i = e;
    }
    pairs.push({ key, value, start, end: i });
  }
  return pairs;
}

export class LogfmtHeaderParser {
  readonly name = 'logfmt';
  private readonly readTime: HeaderTimeReader;

  constructor(timeZone = 'UTC', now?: () => number) {
    this.readTime = headerTimeReader(timeZone, now);
  }

  match(line: string): ParsedLine | undefined {
    // Most lines are not logfmt at all: a line starts with a key and `=` within its first word.
    const eq = line.indexOf('=');
    if (eq <= 0 || eq > 24 || line.lastIndexOf(' ', eq) >= 0) return undefined;
    const pairs = logfmtPairs(line);
    if (!pairs) return undefined;
    let timestamp: string | undefined;
    let level: string | undefined;
    let message: string | undefined;
    let logger: string | undefined;
    const rest: string[] = [];
    for (const p of pairs) {
      if (timestamp === undefined && TIME_KEYS.has(p.key)) {
        timestamp = this.readTime(p.value);
        if (timestamp !== undefined) continue;
      } else if (level === undefined && LEVEL_KEYS.has(p.key) && p.value !== '') {
        level = normalizeLevel(p.value);
        continue;
      } else if (message === undefined && MESSAGE_KEYS.has(p.key)) {
        message = p.value;
        continue;
      } else if (logger === undefined && LOGGER_KEYS.has(p.key) && p.value !== '') {
        logger = p.value;
        continue;
      }
      rest.push(line.slice(p.start, p.end));
    }
    // A header is a time or a level beside the message: `a=1 b=2` alone is data, not a log line.
    if (message === undefined || (timestamp === undefined && level === undefined)) return undefined;
    const text = rest.length ? (message === '' ? rest.join(' ') : `${message} ${rest.join(' ')}`) : message;
    const parsed: ParsedLine = { message: text };
    if (timestamp !== undefined) parsed.timestamp = timestamp;
    if (level !== undefined) parsed.level = level;
    if (logger !== undefined) parsed.fields = { log: { logger } };
    return parsed;
  }

  parse(line: string): ParsedLine {
    return this.match(line) ?? { message: line, flags: [PATTERN_MISMATCH] };
  }
}
