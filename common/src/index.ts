// What agent, collector, detection, elasticsearch, cli and bench use from common — named,
// not `export *`, so this file says what the shared surface is (and a helper used only
// inside common stays inside). Add a name here when another workspace starts to use it.

// The wire format between agent and collector.
export { EVENTS_PATH, REDELIVERY_HEADER, DATASET_PATTERN, NAMESPACE_PATTERN, DEADLETTER_DATASET, eventId, eventIdPrefix } from './wire.js';
export type { WireAck, WireBatch, WireEvent } from './wire.js';
// Index and data stream names.
export { DATA_STREAMS, INDICES, dataStreamName, datasetPattern } from './indices.js';
// Configuration: YAML files with ${ENV}, errors naming file, line and key; value schemas.
export { ConfigError, loadYamlConfig, parseYamlConfig } from './config-file.js';
export { byteSize, durationMs, httpUrl } from './config-schema.js';
export { parseDuration } from './units.js';
// Running a service: logging, backoff, the CLI frame, process metrics.
export { createLogger, loggerOptions } from './log.js';
export type { Logger } from './log.js';
export { Backoff, sleep } from './backoff.js';
export { runServiceCli } from './service-cli.js';
export { registerProcessMetrics } from './process-metrics.js';
export { maskUrlCredentials } from './mask-url.js';
// The one redactor (agent processors and collector).
export { REDACT_DEFAULTS, Redactor } from './redact.js';
export type { RedactionKind } from './redact.js';
