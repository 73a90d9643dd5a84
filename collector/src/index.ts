export * from './config.js';
export * from './collector.js';
export * from './indexer.js';
export * from './es-client.js';
export { makeState, checkState } from './chat/install/slack-install.js';
