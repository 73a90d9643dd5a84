// Slack app: a bot token (Web API: post, update, thread) or an incoming webhook (post only).
import { z } from 'zod';
import { durationMs, httpUrl } from '@stacklens/common';
import { defineChatIntegration, shown } from './descriptor.js';
import { SlackSender } from '../../chat/alerts/slack.js';
import { WebhookSender } from '../../chat/alerts/webhook.js';
import { DEFAULT_INSTALL_SCOPES } from '../../chat/install/slack-install.js';

const SLACK_TIMEOUT_MS = 10_000;

export const slackSchema = z
  .strictObject({
    bot_token: z.string().min(1).optional(),
    /** Verifies requests to /slack/commands, /slack/actions and /slack/events (v0 HMAC-SHA256). */
    signing_secret: z.string().min(1).optional(),
    api_url: httpUrl().default('https://slack.com/api/'),
    /** Default route: incidents no team route claims go here. */
    channel: z.string().min(1).default('#oncall'),
    /** Incoming-webhook mode, where a bot token is not wanted: posts only (no updates or threads). */
    webhook_url: httpUrl().optional(),
    /** More workspaces the app is installed in: team id → its bot token (the top-level bot_token is the default workspace). */
    workspaces: z.record(z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack team id such as T0123ABCD'), z.strictObject({ bot_token: z.string().min(1) })).default({}),
    /** Index the messages of channels the app is in (Events API) into logs-chat-default. */
    index_messages: z.boolean().default(true),
    /** Per Web API request: a Slack that never answers must not hold an alert past its outbox lease. */
    timeout: durationMs().default(SLACK_TIMEOUT_MS),
    /** App installation through OAuth (GET /slack/install): the app's credentials from its Basic Information page. */
    client_id: z.string().min(1).optional(),
    client_secret: z.string().min(1).optional(),
    /** The collector's /slack/oauth/callback as browsers reach it; listed among the app's Redirect URLs. */
    install_redirect_url: httpUrl().optional(),
    authorize_url: httpUrl().default('https://slack.com/oauth/v2/authorize'),
    install_scopes: z.array(z.string().regex(/^[a-z][a-z.:_-]*$/, 'must be a Slack scope such as chat:write')).min(1).default(DEFAULT_INSTALL_SCOPES),
    /** When set, installs into other workspaces are refused. */
    allowed_workspaces: z.array(z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack team id such as T0123ABCD')).optional(),
  })
  .refine((s) => s.bot_token || s.webhook_url || s.client_id, { message: 'needs bot_token (or webhook_url for incoming-webhook mode, or client_id to be installed through OAuth)', path: ['bot_token'] })
  .refine((s) => !s.client_id || (s.client_secret && s.install_redirect_url), { message: 'app installation needs client_secret and install_redirect_url with client_id', path: ['client_id'] });

export const slack = defineChatIntegration({
  type: 'slack',
  service: 'Slack',
  configSchema: slackSchema,
  // Webhook URLs carry their credential in the path; workspaces hold bot tokens.
  secretKeys: ['bot_token', 'signing_secret', 'webhook_url', 'workspaces', 'client_secret'],
  destinationKeys: ['api_url', 'webhook_url'],
  testTimeoutMs: SLACK_TIMEOUT_MS,
  async test(s) {
    if (!s.bot_token) return 'incoming-webhook mode: nothing to test without posting';
    const { WebClient } = await import('@slack/web-api');
    const who = await new WebClient(s.bot_token, { slackApiUrl: s.api_url, retryConfig: { retries: 0 }, timeout: s.timeout ?? SLACK_TIMEOUT_MS }).auth.test();
    return `Slack: connected to ${shown(who.team ?? who.team_id)} as ${shown(who.user ?? who.user_id)}`;
  },
  // slack:<team> for each further workspace this collector has a token for.
  capabilities: (s) => ['slack', ...Object.keys(s.workspaces ?? {}).map((team) => `slack:${team}`)],
  notify: { channels: true },
  chatAlerts: {
    defaultChannel: (s) => s.channel,
    // A bot token: the Web API (edits, threads, buttons, ChatOps); else the incoming webhook.
    sender: (s, { log, observe }) => (s.bot_token || !s.webhook_url ? new SlackSender(s, log, observe) : new WebhookSender('slack', s.webhook_url!, observe, undefined, s.timeout)),
    // A workspace with its own token here needs that token; otherwise the default one.
    taskNeeds: (workspace, capabilities) => (workspace && capabilities.includes(`slack:${workspace}`) ? ['slack', `slack:${workspace}`] : ['slack']),
  },
});
