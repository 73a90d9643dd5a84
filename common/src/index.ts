export * from './wire.js';
export * from './units.js';
export * from './backoff.js';
export * from './log.js';
export * from './config-file.js';
export * from './config-schema.js';
export * from './service-cli.js';
export * from './process-metrics.js';
