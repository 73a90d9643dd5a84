export * from './config.js';
export * from './collector.js';
export * from './indexer.js';
export * from './es-client.js';
