// Every index and data stream StackLens writes or reads, named once. Each matches an index
// template in elasticsearch/templates/index/ (indices.test.ts checks it), so a name and the
// mappings it gets can only change together.

/** Data streams of the collector's own writing (agents may not write these datasets). */
export const DATA_STREAMS = {
  /** Chat messages captured from Slack and Mattermost. */
  chat: 'logs-chat-default',
  /** Events the collector could not index, with the reason. */
  deadLetters: 'logs-stacklens.deadletter-default',
  /** Authentication failures, refusals, admin changes, incident actions, integration tests. */
  audit: 'logs-stacklens.audit-default',
} as const;

/** Plain indices of the collector's state. */
export const INDICES = {
  incidents: 'stacklens-incidents',
  silences: 'stacklens-silences',
  outbox: 'stacklens-outbox',
  ruleState: 'stacklens-rule-state',
  integrations: 'stacklens-integrations',
  slackReplay: 'stacklens-slack-replay',
  slackInstallations: 'stacklens-slack-installations',
  templates: 'stacklens-templates',
} as const;

/** The data stream an agent's event lands in: logs-<dataset>-<namespace>. */
export function dataStreamName(dataset: string, namespace: string): string {
  return `logs-${dataset}-${namespace}`;
}

/** Every data stream of a dataset (any namespace), as an index pattern. */
export const datasetPattern = (dataset: string): string => `logs-${dataset}-*`;
