// Headers of plain lines: `pattern` on an input (agent.yaml) names a shipped pattern
// (header-patterns.ts), `auto`, `generic`, or is a grok pattern of its own:
//
//   %{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} \[%{DATA:thread}\] %{JAVACLASS:logger}: %{GREEDYDATA:message}
//
// `%{NAME}` inserts a sub-pattern of GROK_LIBRARY, `%{NAME:field}` captures it as `field`
// (`%{NAME:field:int}` as a number), `(?<field>…)` captures a regex of its own; anything else
// is regex. A pattern is compiled once, into one RegExp anchored at the line's start (a list
// of alternatives into one each, the last that matched tried first). Field names go to ECS
// (FIELD_MAP); a dotted name is an ECS path as written; any other name goes under labels.
// The rest of the line is `message` (without a `message` capture the whole line is).
//
// A line that does not match keeps its whole text as message and is flagged
// `pattern_mismatch` (log.flags); it is never dropped.
import type { ParsedLine } from './parse-error.js';
import { GROK_LIBRARY, HEADER_PATTERNS, type HeaderPatternName, type NamedHeaderPattern } from './header-patterns.js';
import safeRegex from 'safe-regex2';
import { headerTimeReader, type HeaderTimeReader } from './header-time.js';
import { genericHeaderParser, normalizeLevel, PATTERN_MISMATCH } from './header-generic.js';
import { LogfmtHeaderParser } from './header-logfmt.js';

export { HEADER_PATTERNS, GROK_LIBRARY, type HeaderPatternName } from './header-patterns.js';
export { normalizeLevel, PATTERN_MISMATCH } from './header-generic.js';

/** `auto` looks at this many non-empty first lines of a file … */
export const AUTO_SAMPLE_LINES = 50;
/** The longest line prefix a header pattern is matched against. */
export const HEADER_SCAN_CHARS = 2048;
/** … and takes the pattern matching the most of them, if it matches at least this share. */
export const AUTO_MIN_SHARE = 0.6;

export interface HeaderPatternOptions {
  /** Zone of header times written without one (the input's `timezone`). Default UTC. */
  timezone?: string;
  /** For `auto`: the file's first lines, to choose the pattern from. */
  sample?: readonly string[];
  /** The clock, for times without a year (tests). */
  now?: () => number;
}

export interface HeaderParser {
  /** The shipped name (`syslog`, …, `generic`), or `custom` for a pattern of one's own. */
  readonly name: string;
  /** The line's header read into fields, or undefined when it does not match. */
  match(line: string): ParsedLine | undefined;
  /** match(), or — no match — the whole line as message, flagged pattern_mismatch. */
  parse(line: string): ParsedLine;
}

/** A pattern that cannot be used; the message says why (config errors put the key before it). */
export class HeaderPatternError extends Error {
  override name = 'HeaderPatternError';
}

// ── where captured fields go ──

type FieldType = 'string' | 'int' | 'float';
type Special = 'timestamp' | 'date' | 'time' | 'level' | 'message' | 'priority' | 'severity_code';

/** Capture names with a meaning: ECS path and type, or a special role. */
const FIELD_MAP: Record<string, Special | [string, FieldType]> = {
  timestamp: 'timestamp', '@timestamp': 'timestamp', datetime: 'timestamp',
  date: 'date', time: 'time',
  level: 'level', loglevel: 'level', severity: 'level', levelname: 'level',
  message: 'message', msg: 'message',
  priority: 'priority', pri: 'priority',
  severity_code: 'severity_code',
  logger: ['log.logger', 'string'], logger_name: ['log.logger', 'string'], class: ['log.logger', 'string'], category: ['log.logger', 'string'], component: ['log.logger', 'string'], module: ['log.logger', 'string'],
  thread: ['process.thread.name', 'string'], thread_name: ['process.thread.name', 'string'],
  tid: ['process.thread.id', 'int'], thread_id: ['process.thread.id', 'int'],
  pid: ['process.pid', 'int'], process_id: ['process.pid', 'int'],
  program: ['process.name', 'string'], process: ['process.name', 'string'], prog: ['process.name', 'string'], appname: ['process.name', 'string'], app_name: ['process.name', 'string'],
  hostname: ['host.hostname', 'string'], host: ['host.hostname', 'string'], logsource: ['host.hostname', 'string'],
  client: ['source.address', 'string'], clientip: ['source.address', 'string'], client_ip: ['source.address', 'string'], remote_addr: ['source.address', 'string'],
  user: ['user.name', 'string'], remote_user: ['user.name', 'string'], username: ['user.name', 'string'],
  method: ['http.request.method', 'string'], verb: ['http.request.method', 'string'],
  request: ['url.original', 'string'], url: ['url.original', 'string'], uri: ['url.original', 'string'],
  http_version: ['http.version', 'string'], httpversion: ['http.version', 'string'],
  status: ['http.response.status_code', 'int'], status_code: ['http.response.status_code', 'int'], response: ['http.response.status_code', 'int'],
  bytes: ['http.response.body.bytes', 'int'], body_bytes_sent: ['http.response.body.bytes', 'int'],
  referrer: ['http.request.referrer', 'string'], referer: ['http.request.referrer', 'string'],
  user_agent: ['user_agent.original', 'string'], agent: ['user_agent.original', 'string'], useragent: ['user_agent.original', 'string'],
  file: ['log.origin.file.name', 'string'], filename: ['log.origin.file.name', 'string'],
  line: ['log.origin.file.line', 'int'], lineno: ['log.origin.file.line', 'int'],
  function: ['log.origin.function', 'string'], func: ['log.origin.function', 'string'],
  msgid: ['log.syslog.msgid', 'string'], structured_data: ['log.syslog.structured_data', 'string'], syslog_version: ['log.syslog.version', 'string'],
  request_id: ['http.request.id', 'string'], trace_id: ['trace.id', 'string'], span_id: ['span.id', 'string'],
  error_code: ['error.code', 'string'],
};

/** Fields the agent sets itself: a pattern may not write them. */
const RESERVED = /^(?:agent|data_stream|stacklens)(?:\.|$)|^(?:event\.dataset|host\.name|log\.file|log\.offset|log\.flags|log\.level|service\.name)(?:\.|$)/;
const FIELD_NAME = /^@?[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$/;

const SYSLOG_SEVERITY = ['emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug'];
/** A message that opens with its level: `warning: …`, `Error: …`, `fatal: …`. */
const MESSAGE_LEVEL = /^(warning|warn|error|fatal|panic|critical|crit|alert|emerg|emergency|notice|info|debug):\s/i;

/** Set a dotted path in a nested object. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = target;
  for (let i = 0; i < path.length - 1; i++) {
    const next = o[path[i]];
    if (next === undefined || next === null || typeof next !== 'object') o = o[path[i]] = {};
    else o = next as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

/** What is done with one capture. */
interface Capture {
  group: string;
  field: string;
  role: Special | 'path';
  path: string[];
  type: FieldType;
}

function captureFor(group: string, field: string, typeHint: string | undefined): Capture {
  const mapped = FIELD_MAP[field];
  if (typeof mapped === 'string') return { group, field, role: mapped, path: [], type: 'string' };
  const type: FieldType = typeHint === 'int' || typeHint === 'float' ? typeHint : mapped ? mapped[1] : 'string';
  if (mapped) return { group, field, role: 'path', path: mapped[0].split('.'), type };
  if (field.includes('.')) return { group, field, role: 'path', path: field.split('.'), type };
  // Anything else is a label: keyword, whatever the type hint (one label must keep one type).
  return { group, field, role: 'path', path: ['labels', field], type: 'string' };
}

// ── the grok compiler ──

interface CompiledAlternative {
  re: RegExp;
  captures: Capture[];
  hasMessage: boolean;
}

const GROK_REF = /%\{(\w+)(?::([^:}]+)(?::(\w+))?)?\}/g;

/** Expand %{…} and (?<name>…) into a regex source whose named groups are g0, g1, …; captures in order. */
function expandGrok(source: string, where: string): { regex: string; captures: Capture[] } {
  const captures: Capture[] = [];
  const expand = (text: string, depth: number, stack: string[]): string => {
    if (depth > 20) throw new HeaderPatternError(`sub-patterns nest too deep (${stack.join(' → ')})`);
    // Raw named groups of the pattern's own: (?<field>…) → (?<gN>…). Lookbehinds (?<= (?<! stay.
    let out = '';
    let last = 0;
    const raw = /\(\?<([^=!>][^>]*)>/g;
    for (let m = raw.exec(text); m; m = raw.exec(text)) {
      const field = m[1];
      checkFieldName(field);
      const group = `g${captures.length}`;
      captures.push(captureFor(group, field, undefined));
      out += text.slice(last, m.index) + `(?<${group}>`;
      last = m.index + m[0].length;
    }
    text = out + text.slice(last);
    return text.replace(GROK_REF, (_all, name: string, field?: string, type?: string) => {
      const sub = GROK_LIBRARY[name];
      if (sub === undefined) {
        throw new HeaderPatternError(`unknown sub-pattern %{${name}}${where} (known: ${Object.keys(GROK_LIBRARY).join(', ')})`);
      }
      if (stack.includes(name)) throw new HeaderPatternError(`sub-pattern %{${name}} refers to itself`);
      if (type !== undefined && type !== 'int' && type !== 'float' && type !== 'string') {
        throw new HeaderPatternError(`%{${name}:${field}:${type}}: the type must be int, float or string`);
      }
      if (field === undefined) return `(?:${expand(sub, depth + 1, [...stack, name])})`;
      checkFieldName(field);
      const group = `g${captures.length}`;
      captures.push(captureFor(group, field, type));
      return `(?<${group}>${expand(sub, depth + 1, [...stack, name])})`;
    });
  };
  const regex = expand(source, 0, []);
  const stray = /%\{[^}]*\}?/.exec(regex);
  if (stray) throw new HeaderPatternError(`"${stray[0]}" is not a sub-pattern reference (write %{NAME} or %{NAME:field})`);
  return { regex, captures };
}

function checkFieldName(field: string): void {
  if (!FIELD_NAME.test(field)) throw new HeaderPatternError(`"${field}" is not a field name (letters, digits, "_", "-", dotted for an ECS path)`);
  if (RESERVED.test(field) && FIELD_MAP[field] === undefined) throw new HeaderPatternError(`field "${field}" is set by the agent itself`);
}

function compileAlternative(source: string, where = ''): CompiledAlternative {
  const { regex, captures } = expandGrok(source, where);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${regex})`);
  } catch (err) {
    throw new HeaderPatternError(`is not a valid pattern: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`);
  }
  if (captures.length === 0) throw new HeaderPatternError('captures no field: name what a part is, e.g. %{LOGLEVEL:level} or %{GREEDYDATA:message}');
  return { re, captures, hasMessage: captures.some((c) => c.role === 'message') };
}

class GrokHeaderParser implements HeaderParser {
  private last = 0;
  private readonly readTime: HeaderTimeReader;

  constructor(
    readonly name: string,
    private readonly alternatives: CompiledAlternative[],
    opts: HeaderPatternOptions,
    /** How much of a line the pattern reads (a shipped pattern may read further, HEADER_SCAN_CHARS otherwise). */
    private readonly scanChars = HEADER_SCAN_CHARS,
  ) {
    this.readTime = headerTimeReader(opts.timezone ?? 'UTC', opts.now);
  }

  match(line: string): ParsedLine | undefined {
    // The header is on the first line; a multiline event's other lines stay in the message.
    const nl = line.indexOf('\n');
    const first = nl < 0 ? line : line.slice(0, nl);
    // Headers are short: the pattern reads at most scanChars, so a pattern that backtracks
    // cannot cost time growing with a long line (a message capture that reaches the end of
    // that prefix goes on to the end of the line).
    const head = first.length > this.scanChars ? first.slice(0, this.scanChars) : first;
    let alt = this.alternatives[this.last];
    let m = alt.re.exec(head);
    if (!m) {
      for (let i = 0; i < this.alternatives.length && !m; i++) {
        if (i === this.last) continue;
        m = this.alternatives[i].re.exec(head);
        if (m) {
          this.last = i;
          alt = this.alternatives[i];
        }
      }
      if (!m) return undefined;
    }
    const groups = m.groups!;
    const cut = head.length < first.length && m[0].length === head.length;
    let message: string | undefined;
    let timestamp: string | undefined;
    let level: string | undefined;
    let date: string | undefined;
    let time: string | undefined;
    let priority: number | undefined;
    let severityCode: number | undefined;
    let fields: Record<string, unknown> | undefined;
    for (const c of alt.captures) {
      const v = groups[c.group];
      if (v === undefined) continue;
      switch (c.role) {
        case 'message':
          message ??= cut && head.endsWith(v) ? v + first.slice(head.length) : v;
          break;
        case 'timestamp':
          timestamp ??= this.readTime(v);
          break;
        case 'date':
          date ??= v;
          break;
        case 'time':
          time ??= v;
          break;
        case 'level':
          if (v !== '' && v !== '-') level ??= normalizeLevel(v);
          break;
        case 'priority': {
          const p = Number(v);
          if (Number.isInteger(p) && p >= 0 && p <= 191) {
            priority = p;
            setPath((fields ??= {}), ['log', 'syslog', 'priority'], p);
            setPath(fields, ['log', 'syslog', 'facility', 'code'], p >> 3);
            setPath(fields, ['log', 'syslog', 'severity', 'code'], p & 7);
          }
          break;
        }
        case 'severity_code': {
          // A syslog severity written as its number (Cisco's %ASA-4-106023: 4 is warning).
          const code = Number(v);
          if (Number.isInteger(code) && code >= 0 && code <= 7) {
            severityCode = code;
            fields ??= {};
            if (!hasPath(fields, ['log', 'syslog', 'severity', 'code'])) setPath(fields, ['log', 'syslog', 'severity', 'code'], code); // a priority's says it first
          }
          break;
        }
        default: {
          if (v === '' || v === '-') break; // access logs' "no value"
          let value: string | number = v;
          if (c.type !== 'string') {
            const num = Number(v);
            if (!Number.isFinite(num) || (c.type === 'int' && !Number.isInteger(num))) {
              // Not the number the field holds (a procid that is a name): kept as a label.
              setPath((fields ??= {}), ['labels', c.field.replace(/\./g, '_')], v);
              break;
            }
            value = num;
          }
          fields ??= {};
          // The first capture of a name wins (alternatives inside one pattern).
          if (!hasPath(fields, c.path)) setPath(fields, c.path, value);
        }
      }
    }
    if (timestamp === undefined && (date !== undefined || time !== undefined)) {
      timestamp = this.readTime(date !== undefined && time !== undefined ? `${date} ${time}` : (date ?? time)!);
    }
    if (level === undefined && priority !== undefined) level = SYSLOG_SEVERITY[priority & 7];
    if (level === undefined && severityCode !== undefined) level = SYSLOG_SEVERITY[severityCode];
    if (!alt.hasMessage) message = first;
    else if (message === undefined) message = '';
    else if (message.charCodeAt(0) === 32 || message.charCodeAt(0) === 9) message = message.replace(/^[ \t]+/, '');
    if (nl >= 0) message += line.slice(nl);
    // No level in the header (syslog written to a file keeps no priority): a message that
    // starts with one says it — Postfix's and sshd's `warning:`, `error:`, `fatal:`, Dovecot's
    // `Error:`. The message keeps it.
    if (level === undefined && alt.hasMessage) {
      const m = MESSAGE_LEVEL.exec(message);
      if (m) level = normalizeLevel(m[1]);
    }
    const parsed: ParsedLine = { message };
    if (timestamp !== undefined) parsed.timestamp = timestamp;
    if (level !== undefined) parsed.level = level;
    if (fields !== undefined) parsed.fields = fields;
    return parsed;
  }

  parse(line: string): ParsedLine {
    return this.match(line) ?? { message: line, flags: [PATTERN_MISMATCH] };
  }
}

function hasPath(o: Record<string, unknown>, path: readonly string[]): boolean {
  let cur: unknown = o;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur !== undefined;
}

// ── names, auto-detection ──

export const isHeaderPatternName = (s: string): s is HeaderPatternName => Object.hasOwn(HEADER_PATTERNS, s);

/** The names `pattern` accepts besides a grok pattern. */
export const HEADER_PATTERN_NAMES: readonly string[] = [...Object.keys(HEADER_PATTERNS), 'logfmt', 'generic', 'auto'];

/** Shipped patterns compiled in UTC, shared by every detection (logfmt's reader last: key=value pairs, not a grok). */
let detectors: Pick<HeaderParser, 'name' | 'match'>[] | undefined;
function namedDetectors(): Pick<HeaderParser, 'name' | 'match'>[] {
  return (detectors ??= [...(Object.keys(HEADER_PATTERNS) as HeaderPatternName[]).map((name) => compileNamed(name, { now: () => 0 })), new LogfmtHeaderParser('UTC', () => 0)]);
}

function compileNamed(name: HeaderPatternName, opts: HeaderPatternOptions): GrokHeaderParser {
  const grok = HEADER_PATTERNS[name].grok;
  const list: readonly string[] = typeof grok === 'string' ? [grok] : grok;
  const named: NamedHeaderPattern = HEADER_PATTERNS[name];
  return new GrokHeaderParser(name, list.map((g) => compileAlternative(g, ` in shipped pattern ${name}`)), opts, named.scanChars);
}

/** The non-empty first lines of a sample that `auto` reads (indented lines — continuations of the line before — are left out). */
function sampleOf(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) continue;
    out.push(line);
    if (out.length >= AUTO_SAMPLE_LINES) break;
  }
  return out;
}

/**
 * The shipped pattern that reads a file's first lines: the one matching the most of its first
 * AUTO_SAMPLE_LINES non-empty lines, if it matches at least AUTO_MIN_SHARE of them (ties go
 * to the one listed first in HEADER_PATTERNS); else `generic`.
 */
export function detectHeaderPattern(sampleLines: readonly string[]): string {
  const sample = sampleOf(sampleLines);
  if (sample.length === 0) return 'generic';
  let best = 'generic';
  let bestCount = 0;
  for (const d of namedDetectors()) {
    let count = 0;
    for (const line of sample) if (d.match(line)) count++;
    if (count > bestCount) {
      best = d.name;
      bestCount = count;
    }
  }
  return bestCount >= AUTO_MIN_SHARE * sample.length ? best : 'generic';
}

/**
 * `auto` for one file. With a sample (the file's first lines) the choice is made at once;
 * lines seen before AUTO_SAMPLE_LINES of them were are added to it, and the choice is made
 * again when the one made does not read a line (a file that was empty when it was opened).
 */
class AutoHeaderParser implements HeaderParser {
  private chosen!: HeaderParser;
  private readonly sample: string[];
  private settled: boolean;

  constructor(
    private readonly opts: HeaderPatternOptions,
    sample: readonly string[],
  ) {
    this.sample = sampleOf(sample);
    this.settled = this.sample.length >= AUTO_SAMPLE_LINES;
    this.choose();
  }

  get name(): string {
    return this.chosen.name;
  }

  private choose(): void {
    const name = detectHeaderPattern(this.sample);
    if (this.chosen?.name !== name) this.chosen = compileHeaderPattern(name, { timezone: this.opts.timezone, now: this.opts.now });
  }

  match(line: string): ParsedLine | undefined {
    if (!this.settled && line.trim() !== '' && line.charCodeAt(0) !== 32 && line.charCodeAt(0) !== 9) {
      this.sample.push(line.split('\n', 1)[0]);
      if (this.sample.length >= AUTO_SAMPLE_LINES) this.settled = true;
      const parsed = this.chosen.match(line);
      if (parsed && this.chosen.name !== 'generic') return parsed;
      this.choose();
    }
    return this.chosen.match(line);
  }

  parse(line: string): ParsedLine {
    return this.match(line) ?? { message: line, flags: [PATTERN_MISMATCH] };
  }
}

/**
 * A parser for the headers of plain lines: a shipped name (HEADER_PATTERNS), `generic` (the
 * stripper of leading times, numbers, a level, a [thread] and a logger:), `auto` (chooses one
 * of those from opts.sample, a file's first lines), or a grok pattern. Throws a
 * HeaderPatternError saying what is wrong with a pattern.
 */
export function compileHeaderPattern(nameOrPattern: string, opts: HeaderPatternOptions = {}): HeaderParser {
  if (nameOrPattern === 'auto') return new AutoHeaderParser(opts, opts.sample ?? []);
  if (nameOrPattern === 'generic') return genericHeaderParser(opts.timezone ?? 'UTC', opts.now);
  if (nameOrPattern === 'logfmt') return new LogfmtHeaderParser(opts.timezone ?? 'UTC', opts.now);
  if (isHeaderPatternName(nameOrPattern)) return compileNamed(nameOrPattern, opts);
  if (/^[a-z][a-z0-9_]*$/.test(nameOrPattern)) {
    throw new HeaderPatternError(`unknown pattern name "${nameOrPattern}" (shipped: ${HEADER_PATTERN_NAMES.join(', ')}; or a grok pattern such as %{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message})`);
  }
  if (nameOrPattern.trim() === '') throw new HeaderPatternError('is empty');
  const alternative = compileAlternative(nameOrPattern);
  backtrackingRisk(nameOrPattern, alternative.re.source);
  return new GrokHeaderParser('custom', [alternative], opts);
}

/**
 * Refuse a custom pattern whose matching time can explode on a long or hostile line (Node's
 * regular expressions backtrack; there is no time limit): a repeated part that itself repeats
 * (`(a+)+`, star height above 1 — exponential, found by safe-regex2), or more than two
 * unbounded any-character parts (`.*`, `.+`, DATA, GREEDYDATA — each one more is another
 * power of the line's length). Lines are also matched on their first HEADER_SCAN_CHARS only.
 */
function backtrackingRisk(pattern: string, source: string): void {
  // The user's own regular expression: the library's %{NAME} parts are shipped and tested.
  if (!safeRegex(pattern.replace(/%\{[^}]*\}/g, 'x'))) throw new HeaderPatternError('repeats a part that itself repeats (such as (a+)+): matching could take exponential time on a hostile line; repeat a simple part instead');
  const wildcards = source.match(/(?<!\\)\.[*+]/g)?.length ?? 0;
  if (wildcards > 2) throw new HeaderPatternError(`has ${wildcards} unbounded any-character parts (.*, .+, DATA, GREEDYDATA): at most 2, or matching time grows as a power of the line's length; use NOTSPACE, WORD or a bracketed [^\\]]* where a part cannot hold spaces or the delimiter`);
}

/** What is wrong with a `pattern` value, or undefined when it compiles. */
export function headerPatternProblem(nameOrPattern: string): string | undefined {
  try {
    compileHeaderPattern(nameOrPattern, { sample: [] });
    return undefined;
  } catch (err) {
    if (err instanceof HeaderPatternError) return err.message;
    throw err;
  }
}
