export * from './jira-server.js';
export * from './openai-server.js';
export * from './xero-server.js';
