// Mattermost: a bot account (REST + WebSocket) or an incoming webhook (post only).
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { defineChatIntegration, shown } from './descriptor.js';
import { MattermostSender, mattermostSigner } from '../../chat/alerts/mattermost.js';
import { WebhookSender } from '../../chat/alerts/webhook.js';

export const mattermostSchema = z
  .strictObject({
    url: httpUrl(),
    token: z.string().min(1).optional(),
    team: z.string().min(1),
    /** Default route, a channel name in `team`. */
    channel: z.string().min(1).default('oncall'),
    /** The slash command's token: requests to /mattermost/commands must carry it. */
    command_token: z.string().min(1).optional(),
    /** The collector's address as Mattermost reaches it (interactive buttons call back to <callback_url>/mattermost/actions). */
    callback_url: httpUrl().optional(),
    webhook_url: httpUrl().optional(),
    /** Capture posts, edits, deletions, reactions and status changes over the WebSocket into logs-chat-default. */
    index_messages: z.boolean().default(true),
    /** Reconnection backoff of the WebSocket: first wait, growing with each failure up to max. */
    /** Per REST request: a server that never answers must not hold an alert past its outbox lease. */
    timeout: durationMs().default(10_000),
    reconnect_min: durationMs().default(3000),
    reconnect_max: durationMs().default(300_000),
  })
  .refine((m) => m.token || m.webhook_url, { message: 'needs token (a bot access token) or webhook_url', path: ['token'] });

export const mattermost = defineChatIntegration({
  type: 'mattermost',
  service: 'Mattermost',
  configSchema: mattermostSchema,
  secretKeys: ['token', 'command_token', 'webhook_url'],
  destinationKeys: ['url', 'callback_url', 'webhook_url'],
  async test(m) {
    if (!m.token) return 'incoming-webhook mode: nothing to test without posting';
    const { mattermostClient } = await import('../../chat/alerts/mattermost.js');
    const client = mattermostClient(m);
    const me = await client.getMe();
    const team = await client.getTeamByName(m.team);
    return `Mattermost: connected as ${shown(me.username)}, team ${shown(team.display_name || team.name)}`;
  },
  capabilities: () => ['mattermost'],
  notify: { channels: true },
  chatAlerts: {
    defaultChannel: (m) => m.channel,
    // A bot token: REST (edits, threads, signed buttons, ChatOps); else the incoming webhook.
    sender: (m, { observe }) => (m.token ? new MattermostSender(m, mattermostSigner(m), observe) : new WebhookSender('mattermost', m.webhook_url!, observe, undefined, m.timeout)),
  },
});
