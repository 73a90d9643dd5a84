export * from './config.js';
export * from './agent.js';
export * from './event-builder.js';
export { PARSERS, ParseError } from './parsers/index.js';
export { ContainerEnvelope } from './container-envelope.js';
export { REDACT_DEFAULTS } from '@stacklens/common';
