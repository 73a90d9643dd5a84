// Microsoft Teams incoming webhook: an Adaptive Card per incident alert and per lifecycle
// change (chat/alerts/teams.ts). Rules name it `notify: [teams]`; the webhook is bound to one channel.
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { defineChatIntegration } from './descriptor.js';
import { teamsSender, teamsTestMessage } from '../../chat/alerts/teams.js';

export const teamsSchema = z.strictObject({
  /** The Workflows (or legacy connector) webhook URL: its signature is the credential. */
  webhook_url: httpUrl(),
  /** The channel's name, as the incident's chat record and timeline name it (the URL decides where cards go). */
  channel: z.string().min(1).default('teams'),
  /** Per request: a webhook that never answers must not hold an alert past its outbox lease. */
  timeout: durationMs().default(10_000),
});

export const teams = defineChatIntegration({
  type: 'teams',
  service: 'Microsoft Teams',
  configSchema: teamsSchema,
  secretKeys: ['webhook_url'],
  destinationKeys: ['webhook_url'],
  // Teams webhooks have no read-only endpoint: the test posts a small card saying so.
  async test(s) {
    const res = await fetch(s.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(teamsTestMessage(s.channel)), signal: AbortSignal.timeout(s.timeout) });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw Object.assign(new Error('Teams webhook refused the test card'), { status: res.status });
    return `Microsoft Teams: test card posted (HTTP ${res.status})`;
  },
  capabilities: () => ['teams'],
  notify: { channels: false },
  chatAlerts: {
    defaultChannel: (s) => s.channel,
    sender: (s, { observe }) => teamsSender(s.webhook_url, s.timeout, observe),
  },
});
