// Turns one line of one file into a WireEvent: parse, redact, then add the source fields
// (file, offset, host, agent, dataset). Runs once per line, so it writes the event's JSON
// text directly (encode): the parts every event of an input shares are serialized once, and
// no object tree is built only to be stringified for the batch.
import { eventId, eventIdPrefix, type WireEvent } from '@stacklens/common';
import type { InputConfig } from './config.js';
import type { Envelope } from './container-envelope.js';
import { PARSERS, ParseError, PATTERN_MISMATCH, compileHeaderPattern, type LineParser, type ParseContext, type ParsedLine } from './parsers/index.js';
import { Redactor } from '@stacklens/common';
import { fieldsMayNeedRedaction, redactFields } from './processors/redact-fields.js';

export const AGENT_VERSION = '0.2.0';

/** Formats parsed into fields: redacted value by value after parsing. */
const STRUCTURED = new Set(['json', 'chatbot', 'pos']);
/**
 * Formats of foreign JSON whose keys we do not define: a mapping conflict is likely, so the
 * line is sent beside its document and a dead letter holds it as read. (pos fields are ours
 * and mapped by the pos template; its dead letters hold the document.)
 */
const RAW_KEPT = new Set(['json', 'chatbot']);

export interface LineContext {
  flags?: string[];
  envelope?: Envelope;
  /** The line could not be read as its container format. */
  error?: { type: string; message: string };
  /** The line as read, when it differs from the text handed over (a container envelope's line). */
  raw?: string;
}

export class EventBuilder {
  private readonly parse: LineParser;
  private readonly host: { name: string };
  /** Fields this input sets on every event (host, agent, data_stream, event, service). */
  private readonly shared: Record<string, unknown>;
  /** `shared` as JSON members (`,"host":{…},…`), serialized once; the event and host ones apart, a line may extend those. */
  private readonly sharedJson: { host: string; rest: string; event: string };
  /** Keys of a line's fields that `shared` (or log) overrides. */
  private readonly sharedKeys: Set<string>;
  /** `,"dataset":…,"namespace":…` of every event of this input. */
  private readonly streamJson: string;
  private readonly structured: boolean;
  private readonly keepsRawLine: boolean;
  private readonly timeZone: string;
  /** Masks secrets before anything leaves the host: in the text of unstructured lines, in the values of parsed ones. */
  readonly redactor?: Redactor;
  /** Masks the copy of a structured line kept for the dead-letter stream: a second instance, so one secret is counted once. */
  private readonly copyRedactor?: Redactor;
  parseErrors = 0;
  /** Lines whose event JSON cannot hold (nesting too deep to serialize): sent as dead letters. */
  unencodable = 0;
  /** Lines whose header did not match the input's `pattern` (shipped as they are, flagged pattern_mismatch). */
  patternMismatches = 0;
  /** `pattern: auto`: the pattern is chosen per file (see parserForFile). */
  readonly detectsPerFile: boolean;
  private lastIdentity = '';
  private lastPath = '';
  private lastPrefix = '';
  /** `{"path":…,"identity":…}` of the file last seen. */
  private fileJson = '';

  constructor(
    private readonly agentId: string,
    hostName: string,
    private readonly input: InputConfig,
  ) {
    this.parse = PARSERS[input.format];
    this.detectsPerFile = input.format === 'plain' && input.pattern === 'auto';
    if (input.format === 'plain' && input.pattern !== undefined) {
      // Compiled once per input (validated at start-up); `auto` without a file's sample chooses from the lines as they come.
      const header = compileHeaderPattern(input.pattern, { timezone: input.timezone ?? 'UTC' });
      this.parse = (line) => header.parse(line);
    }
    this.structured = STRUCTURED.has(input.format);
    this.keepsRawLine = RAW_KEPT.has(input.format);
    this.timeZone = input.timezone ?? 'UTC';
    this.host = { name: hostName };
    this.shared = {
      host: this.host,
      agent: { id: agentId, type: 'stacklens', version: AGENT_VERSION },
      data_stream: { type: 'logs', dataset: input.dataset, namespace: input.namespace },
      event: { dataset: input.dataset },
      ...(input.service ? { service: { name: input.service } } : {}),
    };
    const member = (key: string) => (key in this.shared ? `,${JSON.stringify(key)}:${JSON.stringify(this.shared[key])}` : '');
    this.sharedJson = { host: member('host'), event: member('event'), rest: member('agent') + member('data_stream') + member('service') };
    this.sharedKeys = new Set([...Object.keys(this.shared), 'log']);
    this.streamJson = `,"dataset":${JSON.stringify(input.dataset)},"namespace":${JSON.stringify(input.namespace)}`;
    const redactor = new Redactor(input.redact);
    if (redactor.enabled) {
      this.redactor = redactor;
      this.copyRedactor = new Redactor(input.redact);
    }
  }

  /**
   * `pattern: auto`: the parser of one file, its pattern chosen from the file's first lines
   * (the harvester reads them once, when it opens the file). Undefined for any other input.
   */
  parserForFile(sampleLines: readonly string[]): LineParser | undefined {
    if (!this.detectsPerFile) return undefined;
    const header = compileHeaderPattern('auto', { timezone: this.input.timezone ?? 'UTC', sample: sampleLines });
    return (line) => header.parse(line);
  }

  private static redactions(r: Redactor): number {
    const c = r.counts;
    return c.card_numbers + c.bearer_tokens + c.api_keys + c.passwords + c.emails;
  }

  /**
   * The copy of a line kept for the dead-letter stream, with the same secrets masked as its
   * document: for JSON, the line parsed, masked value by value and written back (text
   * patterns cannot see a secret behind a JSON escape or under a key name); otherwise the
   * line with the text patterns applied. The line exactly as read when nothing was masked.
   */
  private deadLetterCopy(rawLine: string, redactor: Redactor): string {
    const before = EventBuilder.redactions(redactor);
    let copy: string | undefined;
    if (this.input.format === 'json' || this.input.format === 'chatbot') {
      try {
        const value = JSON.parse(rawLine) as Record<string, unknown>;
        if (value !== null && typeof value === 'object') {
          redactFields(redactor, value, this.input.redact.passwords, this.input.redact.api_keys);
          copy = JSON.stringify(value);
        }
      } catch {
        // not JSON: text patterns below
      }
    }
    copy ??= redactor.redact(rawLine);
    return EventBuilder.redactions(redactor) === before ? rawLine : copy;
  }

  /** The event of one line as an object: the JSON text `encode` sends, parsed (tools and tests). */
  build(rawLine: string, path: string, fileIdentity: string, offset: number, ctx?: LineContext, parse: LineParser = this.parse): WireEvent {
    return JSON.parse(this.encode(rawLine, path, fileIdentity, offset, ctx, parse)) as WireEvent;
  }

  /**
   * The event of one line as the JSON text of a WireEvent, ready for a batch (the hot path).
   * `parse`: the file's own parser (parserForFile), else the input's.
   */
  encode(rawLine: string, path: string, fileIdentity: string, offset: number, ctx?: LineContext, parse: LineParser = this.parse): string {
    if (fileIdentity !== this.lastIdentity || path !== this.lastPath) {
      if (fileIdentity !== this.lastIdentity) this.lastPrefix = eventIdPrefix(this.agentId, fileIdentity);
      this.lastIdentity = fileIdentity;
      this.lastPath = path;
      this.fileJson = JSON.stringify({ path, identity: fileIdentity });
    }
    const id = eventId(this.lastPrefix, offset);
    const before = this.redactor ? EventBuilder.redactions(this.redactor) : 0;
    let parsed: ParsedLine;
    let message: string;
    try {
      if (ctx?.error) throw new ParseError(ctx.error.type, ctx.error.message);
      // Unstructured lines are masked as text; structured ones value by value after parsing,
      // so masking never breaks the JSON they came in.
      const line = this.redactor && !this.structured ? this.redactor.redact(rawLine) : rawLine;
      parsed = parse(line, { timeZone: this.timeZone, envelope: ctx?.envelope } satisfies ParseContext);
      message = parsed.message;
      if (this.structured && this.redactor) {
        message = this.redactor.redact(message);
        const { passwords, api_keys } = this.input.redact;
        // Fields a parser wrote as JSON text are sent as they are unless masking could change them.
        if (parsed.fieldsJson !== undefined && fieldsMayNeedRedaction(this.redactor, parsed.fieldsJson, passwords, api_keys)) {
          parsed = { ...parsed, fields: JSON.parse(`{${parsed.fieldsJson}}`) as Record<string, unknown>, fieldsJson: undefined };
        }
        if (parsed.fields) redactFields(this.redactor, parsed.fields, passwords, api_keys);
      }
    } catch (err) {
      this.parseErrors++;
      return this.deadLetterText(id, offset, err instanceof ParseError ? { type: err.type, message: err.message } : { type: 'parse', message: String(err) }, ctx?.raw ?? rawLine, ctx?.flags);
    }
    let flags = ctx?.flags;
    if (parsed.flags) {
      if (parsed.flags.includes(PATTERN_MISMATCH)) this.patternMismatches++;
      flags = flags ? [...flags, ...parsed.flags] : parsed.flags;
    }
    // The copy for the dead-letter stream is masked when the document was, or when anything in
    // it could be (a value the parser dropped or moved is still in the line); a second redactor: counted once.
    const raw = !this.keepsRawLine
      ? undefined
      : this.redactor && (EventBuilder.redactions(this.redactor) !== before || fieldsMayNeedRedaction(this.redactor, rawLine, this.input.redact.passwords, this.input.redact.api_keys))
        ? this.deadLetterCopy(rawLine, this.copyRedactor!)
        : rawLine;
    let doc: string;
    try {
      doc = this.docText(parsed.timestamp ?? new Date().toISOString(), message, parsed.level, parsed.fields, offset, flags, parsed.fieldsJson);
    } catch (err) {
      // A value JSON cannot hold (nesting too deep for JSON.stringify): the line goes to the dead-letter stream.
      this.unencodable++;
      return this.deadLetterText(id, offset, { type: 'agent.encode', message: `cannot be encoded: ${(err as Error).message}` }, ctx?.raw ?? rawLine, ctx?.flags);
    }
    return `{"id":"${id}"${this.streamJson},"doc":${doc}${raw === undefined ? '' : `,"raw":${JSON.stringify(raw)}`}}`;
  }

  /**
   * The JSON text of the document that is, as an object, `{'@timestamp', message, ...fields,
   * ...shared, log}`: the line's fields, then the fields this input sets on every event
   * (these win over a line's own), then log — with a line's own log.* and event.* kept under
   * ours, and a header's host.* beside host.name (format plain). Only the line's own values
   * are serialized here; event-text.test.ts holds the text to that object.
   */
  private docText(timestamp: string, message: string, level: string | undefined, fields: Record<string, unknown> | undefined, offset: number, flags: string[] | undefined, fieldsJson?: string): string {
    // A line's own @timestamp or message key wins over ours, as in the object (rare: built as one).
    if (fields && (Object.hasOwn(fields, '@timestamp') || Object.hasOwn(fields, 'message'))) return JSON.stringify(this.docObject(timestamp, message, level, fields, offset, flags));
    let text = `{"@timestamp":${JSON.stringify(timestamp)},"message":${JSON.stringify(message)}`;
    if (fieldsJson) text += `,${fieldsJson}`;
    if (fields) {
      for (const key in fields) {
        if (this.sharedKeys.has(key)) continue;
        const value = JSON.stringify(fields[key]);
        if (value !== undefined) text += `,${JSON.stringify(key)}:${value}`;
      }
    }
    const lineHost = this.input.format === 'plain' ? fields?.host : undefined;
    text += typeof lineHost === 'object' && lineHost !== null ? `,"host":${JSON.stringify({ ...lineHost, ...this.host })}` : this.sharedJson.host;
    text += this.sharedJson.rest;
    text += fields && typeof fields.event === 'object' ? `,"event":${JSON.stringify({ ...(fields.event as object), dataset: this.input.dataset })}` : this.sharedJson.event;
    if (fields && typeof fields.log === 'object') {
      const log: Record<string, unknown> = { ...(fields.log as object), file: { path: this.lastPath, identity: this.lastIdentity }, offset };
      if (flags) log.flags = flags;
      if (level) log.level = level;
      return `${text},"log":${JSON.stringify(log)}}`;
    }
    return `${text},"log":{"file":${this.fileJson},"offset":${offset}${flags ? `,"flags":${JSON.stringify(flags)}` : ''}${level ? `,"level":${JSON.stringify(level)}` : ''}}}`;
  }

  /** The document docText writes, as an object. */
  private docObject(timestamp: string, message: string, level: string | undefined, fields: Record<string, unknown> | undefined, offset: number, flags: string[] | undefined): Record<string, unknown> {
    const log: Record<string, unknown> = { file: { path: this.lastPath, identity: this.lastIdentity }, offset };
    if (flags) log.flags = flags;
    if (level) log.level = level;
    const doc: Record<string, unknown> = { '@timestamp': timestamp, message, ...fields, ...this.shared };
    if (fields) {
      if (typeof fields.log === 'object') doc.log = { ...(fields.log as object), ...log };
      else doc.log = log;
      if (typeof fields.event === 'object') doc.event = { ...(fields.event as object), dataset: this.input.dataset };
      if (this.input.format === 'plain' && typeof fields.host === 'object' && fields.host !== null) doc.host = { ...(fields.host as object), ...this.host };
    } else doc.log = log;
    return doc;
  }

  /** A line that did not parse (or cannot be encoded): shipped as read, masked as its document would have been, with the reason. */
  private deadLetterText(id: string, offset: number, reason: { type: string; message: string }, asRead: string, flags: string[] | undefined): string {
    const copy = this.redactor ? this.deadLetterCopy(asRead, this.redactor) : asRead;
    const log: Record<string, unknown> = { file: { path: this.lastPath, identity: this.lastIdentity }, offset };
    if (flags) log.flags = flags;
    const event: WireEvent = {
      id,
      dataset: this.input.dataset,
      namespace: this.input.namespace,
      doc: { '@timestamp': new Date().toISOString(), message: copy, log, ...this.shared },
      error: reason,
      raw: copy,
    };
    return JSON.stringify(event);
  }
}
