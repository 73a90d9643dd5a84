export * from './masks.js';
export * from './miner.js';
