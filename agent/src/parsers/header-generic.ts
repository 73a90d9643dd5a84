// `pattern: generic` (and what `auto` falls back to when no shipped pattern reads a file):
// strips a header of the usual parts without knowing its layout —
//
//   leading time/date tokens (one or several, bracketed or not) · epoch numbers · numbers
//   (ids, a pid and a thread id) · a level word · a [bracketed] thread · a `logger:` ·
//   `name - ` · a `prog[pid]:` after a host · a `time|component|id|` prefix · a padded column
//
// and a few tokens it does not know between times and a level (node names, a file name
// before the time). It stops at the first thing that reads like prose, so a line without a
// header keeps its text. It is a fallback: a shipped pattern reads a known format exactly.
import type { ParsedLine } from './parse-error.js';
import { headerTimeReader, type HeaderTimeInfo, type HeaderTimeReader } from './header-time.js';

/** The flag (log.flags) of a line its input's pattern did not match. */
export const PATTERN_MISMATCH = 'pattern_mismatch';

const LEVEL_ALIASES: Record<string, string> = {
  warning: 'warn', err: 'error', eror: 'error', crit: 'critical', emerg: 'emergency', panic: 'emergency', information: 'info', informational: 'info',
  v: 'trace', d: 'debug', i: 'info', w: 'warn', e: 'error', f: 'fatal', a: 'fatal',
  // java.util.logging (Tomcat): SEVERE is its error level; FINE/FINER/FINEST are debug and trace
  severe: 'error', config: 'info', fine: 'debug', finer: 'debug', finest: 'trace',
  // PostgreSQL's LOG and DEBUG1-5 (MongoDB's D1-D5), MySQL's Note and System
  log: 'info', d1: 'debug', d2: 'debug', d3: 'debug', d4: 'debug', d5: 'debug', debug1: 'debug', debug2: 'debug', debug3: 'debug', debug4: 'debug', debug5: 'debug', note: 'info', system: 'info',
  // Redis's level marks (its `-`, verbose, is "no value" to every pattern: no level)
  '.': 'debug', '*': 'notice', '#': 'warn',
};

/** log.level: lower-case, with the usual abbreviations spelled one way (warning → warn, err → error, logcat's E → error). */
export function normalizeLevel(raw: string): string {
  const l = raw.toLowerCase();
  return LEVEL_ALIASES[l] ?? l;
}

interface Tok {
  s: number;
  e: number;
  t: string;
}

const MAX_TOKENS = 18;
const LEVEL_WORD = /^(?:trace|debug|info|information|notice|warn|warning|error|err|severe|critical|crit|alert|fatal|emerg|emergency|failure|verbose|finer?|finest)$/i;
const TIME_START = /^(?:\d|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*,?$)/;
const TIME_PART = /^(?:\d[\d:.,/T+-]*Z?|[A-Z][a-z]{2,8},?|[+-]\d{4}|UTC|GMT|Z)$/;
const DATE_ONLY = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}),?$/;
const EPOCH = /^1\d{9}(?:\.\d+)?$|^1\d{12}$/;
const NUMBER = /^(?:\d+|0x[0-9a-fA-F]+)$/;
const SIGNED = /^-\d{1,6}$/;
const SEP = /^(?:-{1,3}|\||:|>{1,2}|=>|\*)$/;
/** An all-lower-case or Capitalized word: text, not a header field. */
const PROSE = /^[A-Za-z][a-z]*[,.;!?]?$/;
/** A token that reads like a host or node name: has a digit, a dot, @, / or -. */
const HOSTISH = /^[\w.@/:-]+$/;
const HOST_MARK = /[\d.@/-]/;
const JAVAISH = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$-]*)+$/;
const PROG_PID = /\[\d+\]:$/;

const isProse = (t: string) => PROSE.test(t);
const isHostish = (t: string) => HOSTISH.test(t) && HOST_MARK.test(t);

/** A `logger:` token: what precedes a message, not a word of it (dotted, $, /, [pid], (…), CamelCase). */
function isLoggerColon(t: string, camelCase = true): boolean {
  if (t.length < 2 || !t.endsWith(':') || t.endsWith('::')) return false;
  const name = t.slice(0, -1);
  if (/^[\d:.,]+$/.test(name) || /^[a-z][a-z0-9+.-]*:\/\//.test(t)) return false;
  return /[.$/[(]/.test(name) || (camelCase && /[a-z][A-Z]/.test(name));
}

function levelOf(t: string, strict: boolean): string | undefined {
  let w = t;
  let wrapped = false;
  const c = w[0];
  if ((c === '[' && w.endsWith(']')) || (c === '<' && w.endsWith('>')) || (c === '(' && w.endsWith(')'))) {
    w = w.slice(1, -1);
    wrapped = true;
  } else if (w.endsWith(':') || w.endsWith(',')) w = w.slice(0, -1);
  if (!LEVEL_WORD.test(w)) return undefined;
  if (strict && !wrapped && w !== w.toUpperCase()) return undefined;
  return normalizeLevel(w);
}

function tokenize(line: string, max: number): Tok[] {
  const toks: Tok[] = [];
  const n = line.length;
  let i = 0;
  while (i < n && toks.length < max) {
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && line.charCodeAt(i) !== 32 && line.charCodeAt(i) !== 9) i++;
    toks.push({ s, e: i, t: line.slice(s, i) });
  }
  return toks;
}

/** The index of the `]` closing the `[` at `from` (nested brackets counted), or -1. */
function closingBracket(line: string, from: number): number {
  let depth = 0;
  const end = Math.min(line.length, from + 300);
  for (let i = from; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 91) depth++;
    else if (c === 93 && --depth === 0) return i;
  }
  return -1;
}

/** The first token starting at or after a character position. */
function tokenAt(toks: Tok[], pos: number, from: number): number {
  let i = from;
  while (i < toks.length && toks[i].s < pos) i++;
  return i;
}

const lineEnd = (line: string) => {
  const nl = line.indexOf('\n');
  return nl < 0 ? line.length : nl;
};

class GenericHeaderParser {
  readonly name = 'generic';
  private readonly readTime: HeaderTimeReader;
  private readonly info: HeaderTimeInfo = { complete: false };

  constructor(timeZone: string, now?: () => number) {
    this.readTime = headerTimeReader(timeZone, now);
  }

  parse(line: string): ParsedLine {
    return this.match(line) ?? { message: line, flags: [PATTERN_MISMATCH] };
  }

  match(line: string): ParsedLine | undefined {
    const first = line.slice(0, lineEnd(line));
    return this.pipeHeader(line, first) ?? this.tokenHeader(line, first);
  }

  /** `time|component|id|message` (HealthApp and other pipe-separated headers). */
  private pipeHeader(line: string, first: string): ParsedLine | undefined {
    const bar = first.indexOf('|');
    if (bar <= 0 || bar > 40) return undefined;
    const head = first.slice(0, bar).trim();
    if (!/^[\d[]/.test(head)) return undefined;
    const timestamp = this.readTime(head.replace(/^\[|\]$/g, ''));
    if (timestamp === undefined) return undefined;
    let pos = bar + 1;
    const parts: string[] = [];
    for (let k = 0; k < 3; k++) {
      const next = first.indexOf('|', pos);
      if (next < 0) break;
      const part = first.slice(pos, next).trim();
      if (part === '' || /\s/.test(part) || part.length > 64) break;
      parts.push(part);
      pos = next + 1;
    }
    const fields: Record<string, unknown> = {};
    for (const part of parts) {
      if (/^\d{1,10}$/.test(part)) {
        if ((fields.process as object | undefined) === undefined) fields.process = { pid: Number(part) };
      } else if (/^[A-Za-z]+$/.test(part) && LEVEL_WORD.test(part)) {
        // a level column
      } else if (fields.log === undefined) fields.log = { logger: part };
    }
    const level = parts.find((p) => /^[A-Za-z]+$/.test(p) && LEVEL_WORD.test(p));
    const parsed: ParsedLine = { message: line.slice(pos).replace(/^[ \t]+/, ''), timestamp };
    if (level) parsed.level = normalizeLevel(level);
    if (Object.keys(fields).length > 0) parsed.fields = fields;
    return parsed;
  }

  private tokenHeader(line: string, first: string): ParsedLine | undefined {
    const toks = tokenize(first, MAX_TOKENS);
    if (toks.length === 0) return undefined;
    let i = 0;
    let headerEnd = 0;
    let sawAnchor = false;
    let afterTime = false; // the last thing committed was a time (a pid may follow)
    let pending: Tok[] = [];
    let ts: string | undefined;
    let tsRank = 0;
    let level: { value: string; end: number } | undefined;
    let logger: { value: string; end: number } | undefined;
    let thread: { value: string; end: number } | undefined;
    let context: { value: string; end: number } | undefined;
    const numbers: { value: number; end: number }[] = [];
    const startsWithNumber = NUMBER.test(toks[0].t);

    /** May the unknown tokens seen since the last anchor be part of the header? */
    const pendingOk = (): boolean => {
      if (pending.length === 0) return true;
      if (!sawAnchor) return pending.length <= 1 || (startsWithNumber && pending.length <= 4);
      return pending.length <= 3 && !pending.some((p) => isProse(p.t));
    };
    const commit = (end: number) => {
      headerEnd = end;
      pending = [];
    };
    const time = (iso: string | undefined, text: string) => {
      if (iso === undefined) return;
      const rank = EPOCH.test(text) ? 2 : this.info.complete ? 3 : 1;
      if (rank > tsRank) {
        ts = iso;
        tsRank = rank;
      }
    };

    let phase2 = false;
    scan: while (i < toks.length) {
      const tk = toks[i];
      const t = tk.t;
      // [bracketed]: a time, a level, or (after a time) a thread
      if (t.charCodeAt(0) === 91) {
        const close = closingBracket(first, tk.s);
        if (close < 0) break;
        const inside = first.slice(tk.s + 1, close);
        const next = tokenAt(toks, close + 1, i + 1);
        const iso = /^[\dA-Z]/.test(inside) ? this.readTime(inside, this.info) : undefined;
        if (iso !== undefined) {
          if (!pendingOk()) break;
          time(iso, inside);
          sawAnchor = true;
          afterTime = true;
          commit(close + 1);
          i = next;
          continue;
        }
        const lv = levelOf(`[${inside}]`, false);
        if (lv && pendingOk() && (sawAnchor || i === 0)) {
          level = { value: lv, end: close + 1 };
          commit(close + 1);
          i = next;
          phase2 = true;
          break;
        }
        if (sawAnchor && pending.length === 0 && thread === undefined) {
          thread = { value: inside, end: close + 1 };
          commit(close + 1);
          afterTime = false;
          i = next;
          continue;
        }
        break;
      }
      // a time: the longest run of time-like tokens that reads as one
      if (TIME_START.test(t)) {
        let run = 1;
        while (run < 6 && i + run < toks.length && TIME_PART.test(toks[i + run].t)) run++;
        let found = 0;
        let iso: string | undefined;
        let text = '';
        for (let len = run; len >= 1 && found === 0; len--) {
          text = first.slice(tk.s, toks[i + len - 1].e);
          if (text.endsWith(',')) text = text.slice(0, -1);
          iso = this.readTime(text, this.info);
          if (iso !== undefined) found = len;
        }
        if (found > 0 && !(found === 1 && NUMBER.test(t) && !EPOCH.test(t) && t.length < 8)) {
          if (!pendingOk()) break;
          time(iso, text);
          sawAnchor = true;
          afterTime = true;
          commit(toks[i + found - 1].e);
          i += found;
          continue;
        }
        if (DATE_ONLY.test(t)) {
          if (!pendingOk()) break;
          sawAnchor = true;
          commit(tk.e);
          i++;
          continue;
        }
      }
      if (SEP.test(t)) {
        if (pending.length === 0) {
          if (sawAnchor) {
            commit(tk.e);
            i++;
            continue;
          }
          if (i === 0) {
            pending.push(tk);
            i++;
            continue;
          }
          break;
        }
        // "name - message" after a time (Proxifier's "chrome.exe - …", "chrome.exe *64 - …")
        if (sawAnchor && t === '-' && pending.length <= 2 && !pending.some((p) => isProse(p.t))) {
          logger = { value: first.slice(pending[0].s, pending[pending.length - 1].e), end: tk.e };
          commit(tk.e);
          i++;
        }
        break;
      }
      // logcat's one-letter level, after the pid and thread id
      const letter = pending.length === 0 && numbers.length > 0 && /^[VDIWEF]$/.test(t) && i + 1 < toks.length ? normalizeLevel(t) : undefined;
      const lv = letter ?? levelOf(t, pending.length > 0 || !sawAnchor);
      if (lv !== undefined && (sawAnchor || i === 0 || pending.length > 0)) {
        if (!sawAnchor && !(i === 0 && t === t.toUpperCase())) break;
        if (!pendingOk()) break;
        level = { value: lv, end: tk.e };
        commit(tk.e);
        i++;
        phase2 = true;
        break;
      }
      // (a signed one too: HPC's flag is `1` or `-1`)
      if (sawAnchor && pending.length === 0 && (NUMBER.test(t) || SIGNED.test(t))) {
        if (afterTime || numbers.length > 0) numbers.push({ value: Number(t), end: tk.e });
        commit(tk.e);
        i++;
        continue;
      }
      if (sawAnchor && t.endsWith(':')) {
        // logger: right after the header, or prog[pid]: after a host (syslog inside another header)
        const plainProg = /^[\w.-]+:$/.test(t);
        if ((pending.length === 0 && isLoggerColon(t, false)) || (pending.length === 1 && (isHostish(pending[0].t) || PROG_PID.test(t)) && (isLoggerColon(t) || plainProg))) {
          logger = { value: t.slice(0, -1), end: tk.e };
          commit(tk.e);
          i++;
          break scan;
        }
      }
      // not known: part of the header only if an anchor follows soon
      if (sawAnchor && isProse(t) && !(pending.length === 0 && i + 1 < toks.length && PROG_PID.test(toks[i + 1].t))) break;
      pending.push(tk);
      if (pending.length > 4) break;
      i++;
    }

    if (phase2) {
      // after the level: a [thread], a logger (`name:`, or a dotted name before [ or -), separators, a padded column
      let steps = 0;
      while (steps < 4 && i < toks.length) {
        const tk = toks[i];
        const t = tk.t;
        if (SEP.test(t)) {
          commit(tk.e);
          i++;
          steps++;
          continue;
        }
        if (t.charCodeAt(0) === 91) {
          const close = closingBracket(first, tk.s);
          if (close < 0) break;
          const inside = first.slice(tk.s + 1, close);
          if (logger === undefined && thread === undefined) thread = { value: inside, end: close + 1 };
          else if (logger !== undefined && context === undefined) context = { value: inside, end: close + 1 };
          else break;
          commit(close + 1);
          i = tokenAt(toks, close + 1, i + 1);
          steps++;
          continue;
        }
        if (logger === undefined && isLoggerColon(t)) {
          logger = { value: t.slice(0, -1), end: tk.e };
          commit(tk.e);
          i++;
          break;
        }
        const next = toks[i + 1];
        if (logger === undefined && JAVAISH.test(t) && next && (next.t === '-' || next.t.charCodeAt(0) === 91)) {
          logger = { value: t, end: tk.e };
          commit(tk.e);
          i++;
          steps++;
          continue;
        }
        if (logger === undefined && thread === undefined && steps === 0 && next && next.s - tk.e >= 2 && /^[A-Za-z][\w.-]{0,23}$/.test(t)) {
          logger = { value: t, end: tk.e }; // a padded column (Windows CBS: "Info    CBS    msg")
          commit(tk.e);
          i++;
        }
        break;
      }
    }

    // Never strip everything: the message keeps at least the last part (a line that is only "… warning").
    while (headerEnd > 0 && first.slice(headerEnd).trim() === '') {
      let back = 0;
      for (const tk of toks) if (tk.e < headerEnd && tk.e > back) back = tk.e;
      headerEnd = back;
    }
    if (headerEnd === 0) return undefined;
    const message = line.slice(headerEnd).replace(/^[ \t]+/, '');
    const parsed: ParsedLine = { message };
    if (ts !== undefined) parsed.timestamp = ts;
    if (level && level.end <= headerEnd) parsed.level = level.value;
    let fields: Record<string, unknown> | undefined;
    const log: Record<string, unknown> = {};
    if (logger && logger.end <= headerEnd) log.logger = logger.value;
    if (Object.keys(log).length > 0) (fields ??= {}).log = log;
    const proc: Record<string, unknown> = {};
    // a number right after the time, before a level or another number: the pid (then the thread id)
    const nums = numbers.filter((n) => n.end <= headerEnd);
    if (nums.length > 0 && (nums.length >= 2 || (level && level.end <= headerEnd))) {
      if (nums[0].value > 0 && Number.isSafeInteger(nums[0].value)) proc.pid = nums[0].value;
      if (nums.length >= 2 && Number.isSafeInteger(nums[1].value)) proc.thread = { id: nums[1].value };
    }
    if (thread && thread.end <= headerEnd) proc.thread = { ...(proc.thread as object | undefined), name: thread.value };
    if (Object.keys(proc).length > 0) (fields ??= {}).process = proc;
    if (context && context.end <= headerEnd) (fields ??= {}).labels = { context: context.value };
    if (fields) parsed.fields = fields;
    return parsed;
  }
}

/** The generic header stripper (see the top of this file). */
export function genericHeaderParser(timeZone = 'UTC', now?: () => number): { readonly name: string; match(line: string): ParsedLine | undefined; parse(line: string): ParsedLine } {
  return new GenericHeaderParser(timeZone, now);
}
