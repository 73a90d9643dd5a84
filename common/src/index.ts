export * from './wire.js';
export * from './units.js';
export * from './backoff.js';
export * from './log.js';
export * from './config-file.js';
