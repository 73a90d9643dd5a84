// Turns one line of one file into a WireEvent: parse, redact, then add the source fields
// (file, offset, host, agent, dataset). Runs once per line: kept allocation-light; the
// objects shared by every event of an input are built once.
import { eventId, eventIdPrefix, type WireEvent } from '@stacklens/common';
import type { InputConfig } from './config.js';
import type { Envelope } from './container-envelope.js';
import { PARSERS, ParseError, type LineParser, type ParseContext } from './parsers/index.js';
import { Redactor } from './processors/redact.js';
import { redactFields } from './processors/redact-fields.js';

export const AGENT_VERSION = '0.2.0';

/** Formats whose message is not the line: the line is sent too, so a dead letter holds it as read. */
const STRUCTURED = new Set(['json', 'chatbot', 'pos']);

export interface LineContext {
  flags?: string[];
  envelope?: Envelope;
  /** The line could not be read as its container format. */
  error?: { type: string; message: string };
}

export class EventBuilder {
  private readonly parse: LineParser;
  private readonly host: { name: string };
  private readonly agent: { id: string; type: string; version: string };
  private readonly dataStream: { type: string; dataset: string; namespace: string };
  private readonly service?: { name: string };
  private readonly structured: boolean;
  private readonly timeZone: string;
  /** Masks secrets before anything leaves the host: in the text of unstructured lines, in the values of parsed ones. */
  readonly redactor?: Redactor;
  /** Masks the copy of a structured line kept for the dead-letter stream: a second instance, so one secret is counted once. */
  private readonly copyRedactor?: Redactor;
  parseErrors = 0;
  private lastIdentity = '';
  private lastPrefix = '';

  constructor(
    private readonly agentId: string,
    hostName: string,
    private readonly input: InputConfig,
  ) {
    this.parse = PARSERS[input.format];
    this.structured = STRUCTURED.has(input.format);
    this.timeZone = input.timezone ?? 'UTC';
    this.host = { name: hostName };
    this.agent = { id: agentId, type: 'stacklens', version: AGENT_VERSION };
    this.dataStream = { type: 'logs', dataset: input.dataset, namespace: input.namespace };
    if (input.service) this.service = { name: input.service };
    const redactor = new Redactor(input.redact);
    if (redactor.enabled) {
      this.redactor = redactor;
      this.copyRedactor = this.structured ? new Redactor(input.redact) : redactor;
    }
  }

  /** A structured line that failed to parse is shipped as text: its secrets count now. */
  private countFailedLine(redacted: string, raw: string): string {
    if (this.structured && this.redactor && redacted !== raw) this.redactor.redact(raw);
    return redacted;
  }

  build(rawLine: string, path: string, fileIdentity: string, offset: number, ctx?: LineContext): WireEvent {
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
    // Text-level redaction: the whole line for unstructured formats; for structured ones only
    // the copy kept for the dead-letter stream (their values are redacted after parsing).
    const redactedLine = this.copyRedactor ? this.copyRedactor.redact(rawLine) : rawLine;
    try {
      if (ctx?.error) throw new ParseError(ctx.error.type, ctx.error.message);
      const parsed = this.parse(this.structured ? rawLine : redactedLine, { timeZone: this.timeZone, envelope: ctx?.envelope } satisfies ParseContext);
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
      } else doc.log = log;
      const event: WireEvent = { id, dataset: this.input.dataset, namespace: this.input.namespace, doc };
      if (this.structured) event.raw = redactedLine;
      return event;
    } catch (err) {
      this.parseErrors++;
      const reason = err instanceof ParseError ? { type: err.type, message: err.message } : { type: 'parse', message: String(err) };
      return {
        id,
        dataset: this.input.dataset,
        namespace: this.input.namespace,
        doc: { '@timestamp': new Date().toISOString(), message: this.countFailedLine(redactedLine, rawLine), log, ...base },
        error: reason,
        raw: redactedLine,
      };
    }
  }
}
