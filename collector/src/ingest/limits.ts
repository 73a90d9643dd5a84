// What one ingest request may carry. The values come from collector.yaml's `ingest` section;
// the defaults here are the same as the schema's, for code that builds a server without a file.

export interface IngestLimits {
  /** More events than this in one request: 413 (the agent splits its batch and retries). */
  max_events_per_request: number;
  /** An event whose JSON text is larger: dead-lettered (its first bytes kept), its neighbours indexed. */
  max_event_bytes: number;
  /** How deep an event's doc may nest objects and arrays (the doc itself is level 1). */
  max_depth: number;
  /** Invalid events of one request kept one by one; the rest are counted in one summary dead letter. */
  max_dead_letters_per_request: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  max_events_per_request: 10_000,
  // The largest event an agent with default settings sends: a 1 MiB line (max_line_bytes)
  // both parsed into the doc and kept as `raw`, plus JSON escaping.
  max_event_bytes: 4 * 1024 * 1024,
  // The agent dead-letters JSON lines nested deeper than 32 (MAX_JSON_DEPTH) itself.
  max_depth: 32,
  max_dead_letters_per_request: 100,
};

/** How much of a refused event's text a dead letter keeps (the agent keeps the same). */
export const DEAD_LETTER_TEXT_BYTES = 32 * 1024;
