export * from './runner.js';
export * from './templates.js';
