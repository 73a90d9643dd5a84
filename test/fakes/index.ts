export * from './faults.js';
export * from './jira-server.js';
export * from './openai-server.js';
export * from './xero-server.js';
export * from './slack-server.js';
export * from './mattermost-server.js';
export * from './teams-server.js';
