export * from './runner.js';
export * from './templates.js';
export * from './errors.js';
export * from './root-plugin.js';
export * from './cluster.js';
