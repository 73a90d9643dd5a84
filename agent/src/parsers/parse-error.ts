/** A line the agent could not parse. It is shipped anyway, to the dead-letter stream, with this reason. */
export class ParseError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a parser extracts from one line. The agent adds the source fields (file, offset, host, agent). */
export interface ParsedLine {
  /** ISO-8601 time of the event; absent when the format has none (then the read time is used). */
  timestamp?: string;
  level?: string;
  message: string;
  /** Further ECS / namespaced fields, e.g. { error: { type }, pos: { store_id } }. */
  fields?: Record<string, unknown>;
  /**
   * The same fields already as JSON members (`"pos":{…}`), instead of `fields`, from a parser
   * that can write them without building the object (pos). Never a key the agent sets itself
   * (host, agent, data_stream, event, service, log, @timestamp, message).
   */
  fieldsJson?: string;
  /** Flags for log.flags, e.g. pattern_mismatch (the input's header pattern did not match). */
  flags?: string[];
}

/** What a parser knows besides the line. */
export interface ParseContext {
  /** Zone of timestamps written without one (input `timezone`). */
  timeZone: string;
  /** Fields a container envelope (docker, cri) carried with the line. */
  envelope?: { time?: string; stream?: string };
}

export type LineParser = (line: string, ctx: ParseContext) => ParsedLine;
