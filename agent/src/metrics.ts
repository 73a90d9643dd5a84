// The agent's /metrics (prom-client, Prometheus naming). Values are read from the agent's
// own counters when Prometheus scrapes, so the hot path pays nothing for metrics.
import { createServer, type Server } from 'node:http';
import { Registry, Counter, Gauge } from 'prom-client';
import { registerProcessMetrics } from '@stacklens/common';
import type { RedactionKind } from '@stacklens/common';

export interface InputSnapshot {
  input: string;
  dataset: string;
  lines: number;
  bytes: number;
  parseErrors: number;
  invalidLines: number;
  /** Lines whose header did not match the input's `pattern` (flagged pattern_mismatch). */
  patternMismatches?: number;
}

export interface AgentSnapshot {
  inputs: InputSnapshot[];
  eventsAcked: number;
  batchesAcked: number;
  retries: number;
  pendingEvents: number;
  openFiles: number;
  spoolBytes: number;
  spoolBatches: number;
  registryFiles: number;
  /** Files that cannot be opened or read right now. */
  unreadableFiles: number;
  files: { resumedByContent: number; skippedBytes: number; collisions: number; skippedBinary: number };
  redactions: Record<RedactionKind, number>;
  errors: Record<string, number>;
  fileLag(): Promise<{ path: string; bytes: number }[]>;
}

/** A counter whose value is a running total kept elsewhere. */
function totalCounter(registry: Registry, name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, value: number) => void) => void) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.inc(labels, value));
    },
  });
}

export function createAgentMetrics(snapshot: () => AgentSnapshot): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const perInput = (pick: (i: InputSnapshot) => number) => (set: (l: Record<string, string>, v: number) => void) => {
    for (const i of snapshot().inputs) set({ input: i.input, dataset: i.dataset }, pick(i));
  };
  totalCounter(registry, 'stacklens_agent_lines_read_total', 'Lines read from log files (after multiline joining: events built).', ['input', 'dataset'], perInput((i) => i.lines));
  totalCounter(registry, 'stacklens_agent_read_bytes_total', 'Bytes read from log files.', ['input', 'dataset'], perInput((i) => i.bytes));
  totalCounter(registry, 'stacklens_agent_parse_errors_total', 'Lines that did not parse (shipped to the dead-letter stream).', ['input', 'dataset'], perInput((i) => i.parseErrors));
  totalCounter(registry, 'stacklens_agent_pattern_mismatches_total', 'Lines whose header did not match the input\'s pattern (shipped whole as message, flagged pattern_mismatch).', ['input', 'dataset'], perInput((i) => i.patternMismatches ?? 0));
  totalCounter(registry, 'stacklens_agent_invalid_encoding_lines_total', 'Lines with bytes not valid in the input\'s encoding (replaced by U+FFFD, flagged invalid_utf8).', ['input', 'dataset'], perInput((i) => i.invalidLines));
  totalCounter(registry, 'stacklens_agent_files_skipped_total', 'Files not read, by reason (binary: the first block is not text).', ['reason'], (set) => set({ reason: 'binary' }, snapshot().files.skippedBinary));
  totalCounter(registry, 'stacklens_agent_files_resumed_by_content_total', 'Files resumed past their start by their first bytes alone (not seen under that path and inode): rotated, compressed or moved.', [], (set) => set({}, snapshot().files.resumedByContent));
  totalCounter(registry, 'stacklens_agent_resumed_skipped_bytes_total', 'Bytes skipped when resuming files by their first bytes alone (already shipped under the file they were).', [], (set) => set({}, snapshot().files.skippedBytes));
  totalCounter(registry, 'stacklens_agent_file_identity_collisions_total', 'Files that start with the same bytes as another live file of the same input (both are read).', [], (set) => set({}, snapshot().files.collisions));
  totalCounter(registry, 'stacklens_agent_events_acked_total', 'Events the collector acknowledged.', [], (set) => set({}, snapshot().eventsAcked));
  totalCounter(registry, 'stacklens_agent_batches_acked_total', 'Batches the collector acknowledged.', [], (set) => set({}, snapshot().batchesAcked));
  totalCounter(registry, 'stacklens_agent_ship_retries_total', 'Batch sends that failed and were retried.', [], (set) => set({}, snapshot().retries));
  totalCounter(registry, 'stacklens_agent_redactions_total', 'Secrets masked before shipping, by kind.', ['kind'], (set) => {
    for (const [kind, n] of Object.entries(snapshot().redactions)) set({ kind }, n);
  });
  totalCounter(registry, 'stacklens_agent_errors_total', 'Failures by stage (harvest: a file could not be tailed; registry: a registry write failed; ship: a batch send failed other than by an outage, retried; encode: an event could not be encoded and was dead-lettered; refused: the collector refused an event, dead-lettered; file: a file could not be opened or read, see stacklens_agent_unreadable_files).', ['stage'], (set) => {
    for (const [stage, n] of Object.entries(snapshot().errors)) set({ stage }, n);
  });
  new Gauge({ name: 'stacklens_agent_pending_events', help: 'Events read but not yet acknowledged.', registers: [registry], collect() { this.set(snapshot().pendingEvents); } });
  new Gauge({ name: 'stacklens_agent_spool_bytes', help: 'Bytes of batches waiting in the disk spool.', registers: [registry], collect() { this.set(snapshot().spoolBytes); } });
  new Gauge({ name: 'stacklens_agent_spool_batches', help: 'Batches waiting in the disk spool.', registers: [registry], collect() { this.set(snapshot().spoolBatches); } });
  new Gauge({ name: 'stacklens_agent_unreadable_files', help: 'Files matching an input that cannot be opened or read now (tried again with a growing pause).', registers: [registry], collect() { this.set(snapshot().unreadableFiles); } });
  new Gauge({ name: 'stacklens_agent_open_files', help: 'Files being tailed (open descriptors).', registers: [registry], collect() { this.set(snapshot().openFiles); } });
  new Gauge({ name: 'stacklens_agent_registry_files', help: 'Files known to the registry.', registers: [registry], collect() { this.set(snapshot().registryFiles); } });
  new Gauge({
    name: 'stacklens_agent_file_lag_bytes',
    help: 'Bytes written to a tailed file but not read yet.',
    labelNames: ['path'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { path, bytes } of await snapshot().fileLag()) this.set({ path }, bytes);
    },
  });
  return registry;
}

/** Serve GET /metrics on host:port. */
export async function serveMetrics(registry: Registry, listen: string): Promise<Server> {
  const cut = listen.lastIndexOf(':');
  const host = listen.slice(0, cut).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(cut + 1));
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      try {
        const body = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      } catch (err) {
        res.writeHead(500).end(String((err as Error).message));
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
