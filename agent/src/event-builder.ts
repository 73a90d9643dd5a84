// Turns one line of one file into a WireEvent: parse, redact, then add the source fields
// (file, offset, host, agent, dataset). Runs once per line: kept allocation-light; the
// objects shared by every event of an input are built once.
import { eventId, eventIdPrefix, type WireEvent } from '@stacklens/common';
import type { InputConfig } from './config.js';
import type { Envelope } from './container-envelope.js';
import { PARSERS, ParseError, PATTERN_MISMATCH, compileHeaderPattern, type LineParser, type ParseContext } from './parsers/index.js';
import { Redactor } from '@stacklens/common';
import { redactFields } from './processors/redact-fields.js';

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
  private readonly agent: { id: string; type: string; version: string };
  private readonly dataStream: { type: string; dataset: string; namespace: string };
  private readonly service?: { name: string };
  private readonly structured: boolean;
  private readonly keepsRawLine: boolean;
  private readonly timeZone: string;
  /** Masks secrets before anything leaves the host: in the text of unstructured lines, in the values of parsed ones. */
  readonly redactor?: Redactor;
  /** Masks the copy of a structured line kept for the dead-letter stream: a second instance, so one secret is counted once. */
  private readonly copyRedactor?: Redactor;
  parseErrors = 0;
  /** Lines whose header did not match the input's `pattern` (shipped as they are, flagged pattern_mismatch). */
  patternMismatches = 0;
  /** `pattern: auto`: the pattern is chosen per file (see parserForFile). */
  readonly detectsPerFile: boolean;
  private lastIdentity = '';
  private lastPrefix = '';

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
    this.agent = { id: agentId, type: 'stacklens', version: AGENT_VERSION };
    this.dataStream = { type: 'logs', dataset: input.dataset, namespace: input.namespace };
    if (input.service) this.service = { name: input.service };
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

  /** `parse`: the file's own parser (parserForFile), else the input's. */
  build(rawLine: string, path: string, fileIdentity: string, offset: number, ctx?: LineContext, parse: LineParser = this.parse): WireEvent {
    if (fileIdentity !== this.lastIdentity) {
      this.lastIdentity = fileIdentity;
      this.lastPrefix = eventIdPrefix(this.agentId, fileIdentity);
    }
    const id = eventId(this.lastPrefix, offset);
    const log: Record<string, unknown> = { file: { path, identity: fileIdentity }, offset };
    if (ctx?.flags) log.flags = ctx.flags;
    const base = {
      host: this.host,
      agent: this.agent,
      data_stream: this.dataStream,
      event: { dataset: this.input.dataset },
      ...(this.service ? { service: this.service } : {}),
    };
    const before = this.redactor ? EventBuilder.redactions(this.redactor) : 0;
    try {
      if (ctx?.error) throw new ParseError(ctx.error.type, ctx.error.message);
      // Unstructured lines are masked as text; structured ones value by value after parsing,
      // so masking never breaks the JSON they came in.
      const line = this.redactor && !this.structured ? this.redactor.redact(rawLine) : rawLine;
      const parsed = parse(line, { timeZone: this.timeZone, envelope: ctx?.envelope } satisfies ParseContext);
      if (parsed.flags) {
        if (parsed.flags.includes(PATTERN_MISMATCH)) this.patternMismatches++;
        log.flags = log.flags ? [...(log.flags as string[]), ...parsed.flags] : parsed.flags;
      }
      let message = parsed.message;
      const fields = parsed.fields;
      if (this.structured && this.redactor) {
        message = this.redactor.redact(message);
        if (fields) redactFields(this.redactor, fields, this.input.redact.passwords, this.input.redact.api_keys);
      }
      if (parsed.level) log.level = parsed.level;
      const doc: Record<string, unknown> = {
        '@timestamp': parsed.timestamp ?? new Date().toISOString(),
        message,
        ...fields,
        ...base,
      };
      // Fields from the line may carry their own log.* / event.* (format json): merge, ours win.
      if (fields) {
        if (typeof fields.log === 'object') doc.log = { ...(fields.log as object), ...log };
        else doc.log = log;
        if (typeof fields.event === 'object') doc.event = { ...(fields.event as object), dataset: this.input.dataset };
        // A header's host.hostname goes beside the agent's host.name.
        if (this.input.format === 'plain' && typeof fields.host === 'object' && fields.host !== null) doc.host = { ...(fields.host as object), ...this.host };
      } else doc.log = log;
      const event: WireEvent = { id, dataset: this.input.dataset, namespace: this.input.namespace, doc };
      // The copy needs masking only if the document did (a second redactor: counted once).
      if (this.keepsRawLine) event.raw = this.redactor && EventBuilder.redactions(this.redactor) !== before ? this.deadLetterCopy(rawLine, this.copyRedactor!) : rawLine;
      return event;
    } catch (err) {
      this.parseErrors++;
      const reason = err instanceof ParseError ? { type: err.type, message: err.message } : { type: 'parse', message: String(err) };
      // Shipped as the line, masked as its document would have been; its secrets count now.
      const asRead = ctx?.raw ?? rawLine;
      const copy = this.redactor ? this.deadLetterCopy(asRead, this.redactor) : asRead;
      return {
        id,
        dataset: this.input.dataset,
        namespace: this.input.namespace,
        doc: { '@timestamp': new Date().toISOString(), message: copy, log, ...base },
        error: reason,
        raw: copy,
      };
    }
  }
}
