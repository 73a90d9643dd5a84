export * from './masks.js';
export * from './miner.js';
export * from './access-template.js';
