export * from './runner.js';
export * from './templates.js';
export * from './errors.js';
