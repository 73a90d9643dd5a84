// Jira Cloud (REST v3): tickets for incidents whose rule notifies jira.
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { SEVERITIES } from '@stacklens/detection';
import { defineIntegration, shown } from './descriptor.js';

export const jiraSchema = z.strictObject({
  url: httpUrl(),
  email: z.string().min(1),
  api_token: z.string().min(1),
  project: z.string().min(1),
  issue_type: z.string().min(1).default('Bug'),
  components: z.array(z.string().min(1)).default([]),
  /** Jira priority name per severity. */
  priorities: z.record(z.enum(SEVERITIES), z.string()).default({ critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low' }),
  kibana_url: httpUrl().optional(),
  grafana_url: httpUrl().optional(),
  /** A recurrence comments on the ticket at most this often, with the new counts. */
  comment_every: durationMs().default(15 * 60_000),
  /** Transition to apply when the incident is resolved (e.g. "Done"); none when unset. */
  resolve_transition: z.string().min(1).optional(),
  /** Per request: a Jira that never answers must not hold a ticket task past its lease. */
  timeout: durationMs().default(20_000),
});

export const jira = defineIntegration({
  type: 'jira',
  service: 'Jira',
  configSchema: jiraSchema,
  secretKeys: ['api_token'],
  destinationKeys: ['url'],
  async test(settings) {
    const { Jira } = await import('../jira.js');
    // Jira.test() words its success from the answer; only shape-checked values are kept.
    const said = await new Jira(settings).test();
    const m = /^authenticated as (.*?) on Jira ?(.*?) \(([^()]*)\)$/.exec(said);
    return `authenticated as ${shown(m?.[1])} on Jira ${shown(m?.[2])} (${shown(m?.[3])})`;
  },
  capabilities: () => ['jira'],
  notify: { channels: true },
});
