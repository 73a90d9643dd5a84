// What cli, test and bench use from the agent — named, not `export *`: turning log lines into
// events exactly as the agent does (`stacklens rules test`, `stacklens templates`, shipped-rule
// tests), and reading agent.yaml. The agent itself runs from cli.ts.
export { loadAgentConfig, FORMATS } from './config.js';
export type { Format, InputConfig } from './config.js';
export { EventBuilder, type LineContext } from './event-builder.js';
export { ContainerEnvelope } from './container-envelope.js';
// The redaction defaults the agent applies (common's), for callers that build events as it does.
export { REDACT_DEFAULTS } from '@stacklens/common';
// Headers of plain lines (`pattern`): `stacklens templates mine` reads files as the agent does.
export { AUTO_SAMPLE_LINES, detectHeaderPattern, headerPatternProblem, HEADER_PATTERN_NAMES } from './parsers/index.js';
// The parsers by format (the bench's per-stage profile).
export { PARSERS } from './parsers/index.js';
