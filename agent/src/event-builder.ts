// Turns one line of one file into a WireEvent: parse, then add the source fields
// (file, offset, host, agent, dataset). Runs once per line: kept allocation-light; the
// objects shared by every event of an input are built once.
import { eventId, eventIdPrefix, type WireEvent } from '@stacklens/common';
import type { InputConfig } from './config.js';
import { PARSERS, ParseError, type LineParser } from './parsers/index.js';
import { Redactor } from './processors/redact.js';

export const AGENT_VERSION = '0.1.0';

export class EventBuilder {
  private readonly parse: LineParser;
  private readonly host: { name: string };
  private readonly agent: { id: string; type: string; version: string };
  private readonly dataStream: { type: string; dataset: string; namespace: string };
  private readonly service?: { name: string };
  /** Masks secrets in the raw line before it is parsed, so nothing unredacted leaves the host. */
  readonly redactor?: Redactor;
  parseErrors = 0;
  private lastIdentity = '';
  private lastPrefix = '';

  constructor(
    private readonly agentId: string,
    hostName: string,
    private readonly input: InputConfig,
  ) {
    this.parse = PARSERS[input.format];
    this.host = { name: hostName };
    this.agent = { id: agentId, type: 'stacklens', version: AGENT_VERSION };
    this.dataStream = { type: 'logs', dataset: input.dataset, namespace: input.namespace };
    if (input.service) this.service = { name: input.service };
    const redactor = new Redactor(input.redact);
    if (redactor.enabled) this.redactor = redactor;
  }

  build(rawLine: string, path: string, fileIdentity: string, offset: number, flags?: string[]): WireEvent {
    const line = this.redactor ? this.redactor.redact(rawLine) : rawLine;
    if (fileIdentity !== this.lastIdentity) {
      this.lastIdentity = fileIdentity;
      this.lastPrefix = eventIdPrefix(this.agentId, fileIdentity);
    }
    const id = eventId(this.lastPrefix, offset);
    const log: Record<string, unknown> = { file: { path, identity: fileIdentity }, offset };
    if (flags) log.flags = flags;
    const base = {
      host: this.host,
      agent: this.agent,
      data_stream: this.dataStream,
      event: { dataset: this.input.dataset },
      ...(this.service ? { service: this.service } : {}),
    };
    try {
      const parsed = this.parse(line);
      if (parsed.level) log.level = parsed.level;
      const doc: Record<string, unknown> = {
        '@timestamp': parsed.timestamp ?? new Date().toISOString(),
        message: parsed.message,
        ...parsed.fields,
        ...base,
      };
      // Fields from the line may carry their own log.* / event.* (format json): merge, ours win.
      const fields = parsed.fields;
      doc.log = fields && typeof fields.log === 'object' ? { ...(fields.log as object), ...log } : log;
      if (fields && typeof fields.event === 'object') doc.event = { ...(fields.event as object), dataset: this.input.dataset };
      return { id, dataset: this.input.dataset, namespace: this.input.namespace, doc };
    } catch (err) {
      this.parseErrors++;
      const reason = err instanceof ParseError ? { type: err.type, message: err.message } : { type: 'parse', message: String(err) };
      return {
        id,
        dataset: this.input.dataset,
        namespace: this.input.namespace,
        doc: { '@timestamp': new Date().toISOString(), message: line, log, ...base },
        error: reason,
        raw: line,
      };
    }
  }
}
