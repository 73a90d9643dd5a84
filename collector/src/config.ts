// collector.yaml, validated at start-up; errors name file, line and key.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { loadYamlConfig, byteSize, durationMs, httpUrl } from '@stacklens/common';
import { DEFAULT_INGEST_LIMITS } from './ingest/limits.js';
import { agentTokenSchema, apiTokenSchema, duplicateNames, tokenValue } from './security/principals.js';
import { rateLimitsSchema } from './security/rate-limit.js';


/** Jira Cloud (REST v3). */
export const jiraSchema = z
  .strictObject({
    url: httpUrl(),
    email: z.string().min(1),
    api_token: z.string().min(1),
    project: z.string().min(1),
    issue_type: z.string().min(1).default('Bug'),
    components: z.array(z.string().min(1)).default([]),
    /** Jira priority name per severity. */
    priorities: z.record(z.enum(['critical', 'high', 'medium', 'low']), z.string()).default({ critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low' }),
    kibana_url: httpUrl().optional(),
    grafana_url: httpUrl().optional(),
    /** A recurrence comments on the ticket at most this often, with the new counts. */
    comment_every: durationMs().default(15 * 60_000),
    /** Transition to apply when the incident is resolved (e.g. "Done"); none when unset. */
    resolve_transition: z.string().min(1).optional(),
    /** Per request: a Jira that never answers must not hold a ticket task past its lease. */
    timeout: durationMs().default(20_000),
  });

/** Any OpenAI-compatible chat API. */
export const openaiSchema = z
  .strictObject({
    base_url: httpUrl().default('https://api.openai.com/v1'),
    api_key: z.string().min(1),
    model: z.string().min(1).default('gpt-4o-mini'),
    timeout: durationMs().default(20_000),
  });

/** Xero custom connection (client credentials). */
export const xeroSchema = z
  .strictObject({
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    tenant_id: z.string().min(1),
    base_url: httpUrl().default('https://api.xero.com/api.xro/2.0'),
    token_url: httpUrl().default('https://identity.xero.com/connect/token'),
    timeout: durationMs().default(10_000),
  });

/** Slack app: a bot token (Web API: post, update, thread) or an incoming webhook (post only). */
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
  })
  .refine((s) => s.bot_token || s.webhook_url, { message: 'needs bot_token (or webhook_url for incoming-webhook mode)', path: ['bot_token'] });

/** Mattermost: a bot account (REST + WebSocket) or an incoming webhook (post only). */
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

const channelList = () => z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((c) => (Array.isArray(c) ? c : [c]));
const platformTeam = () =>
  z.strictObject({
    /** Slack: the team id of the workspace (default workspace when unset). */
    workspace: z.string().min(1).optional(),
    channels: channelList(),
    /** Who may act on the team's incidents: Slack or Mattermost user ids (never names: a name can be taken). Unset: anyone acting from the team's channels, in its workspace. */
    users: z.array(z.string().min(1)).optional(),
  });
const routeSchema = z.strictObject({
  rule: channelList().optional(),
  severity: z.union([z.enum(['critical', 'high', 'medium', 'low']), z.array(z.enum(['critical', 'high', 'medium', 'low']))]).transform((v) => (Array.isArray(v) ? v : [v])).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  slack: channelList().optional(),
  mattermost: channelList().optional(),
});

/** On-call teams: an incident belongs to the team named by its rule's `labels.team`. */
export const chatSchema = z
  .strictObject({
    /** A slash command slower than this answers "working on it" and follows up (Slack allows 3 s). */
    answer_within: durationMs().default(2500),
    teams: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a team name such as pos (the rules\' labels.team)'),
        z.strictObject({
          slack: platformTeam().optional(),
          mattermost: platformTeam().optional(),
          /** Extra routes inside the team: the first that matches adds its channels. */
          routes: z.array(routeSchema).default([]),
          /** The datasets whose logs the team owns: a team-scoped API token or chat user searches these (and the team's channels). */
          datasets: z.array(z.string().min(1)).default([]),
        }),
      )
      .default({}),
  })
  .default({ answer_within: 2500, teams: {} });

export type ChatConfig = z.infer<typeof chatSchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
export type MattermostConfig = z.infer<typeof mattermostSchema>;

const schema = z.strictObject({
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8080')
    .default('127.0.0.1:8080'),
  elasticsearch: z
    .strictObject({
      url: httpUrl().optional(),
      urls: z.array(httpUrl()).min(1).optional(),
      api_key: z.string().min(1).optional(),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      ca_cert: z.string().min(1).optional(),
      request_timeout: durationMs().default(30_000),
    })
    .refine((e) => e.url || e.urls, { message: 'needs url (or urls)' })
    .refine((e) => !e.username === !e.password, { message: 'username and password go together' }),
  /**
   * Tokens agents present. A plain string may send as any agent id to any dataset but the
   * reserved ones; an object names the agent ids and datasets its token may use.
   */
  agent_tokens: z.array(agentTokenSchema).min(1, 'needs at least one token'),
  /** Detection rules: one YAML file per rule, hot-reloaded. */
  rules_dir: z.string().default('./rules'),
  detection: z
    .strictObject({
      /** How often rules touched by new events are evaluated. */
      tick: durationMs().default(250),
      /** Scheduled runs, silence refresh and auto-resolve sweep period. */
      schedule: durationMs().default(1000),
      enabled: z.boolean().default(true),
    })
    .default({ tick: 250, schedule: 1000, enabled: true }),
  /** External services: what an incident's rule `notify:` sets off. Secrets from the environment. */
  integrations: z
    .strictObject({
      jira: jiraSchema.optional(),
      openai: openaiSchema.optional(),
      xero: xeroSchema.optional(),
      slack: slackSchema.optional(),
      mattermost: mattermostSchema.optional(),
    })
    .default({}),
  /** Who is on call for what: teams, their channels and members. */
  chat: chatSchema,
  outbox: z
    .strictObject({
      /** How long an external action is retried before it is marked failed. */
      retry_budget: durationMs().default(3_600_000),
    })
    .default({ retry_budget: 3_600_000 }),
  /**
   * API principals: `tokens` with a role (viewer reads; operator also acknowledges, resolves,
   * silences and files tickets; admin also changes rules, integrations and reads the audit
   * trail) and optionally a team scope. admin_tokens / viewer_tokens: unnamed admins and viewers.
   */
  api: z
    .strictObject({
      tokens: z.array(apiTokenSchema).default([]),
      admin_tokens: z.array(tokenValue()).default([]),
      viewer_tokens: z.array(tokenValue()).default([]),
    })
    .default({ tokens: [], admin_tokens: [], viewer_tokens: [] }),
  /** Requests per caller and family of endpoints; over them, 429 with Retry-After. */
  rate_limits: rateLimitsSchema,
  max_body_bytes: byteSize().default(16 * 1024 * 1024),
  /** What one ingest request (POST /v1/events) may carry; README "What happens to bad input". */
  ingest: z
    .strictObject({
      /** More events in one request: 413 naming this key, nothing indexed (the agent splits the batch). */
      max_events_per_request: z.number().int().min(1).max(1_000_000).default(DEFAULT_INGEST_LIMITS.max_events_per_request),
      /** A larger event (its JSON text in the request) is dead-lettered unparsed; its neighbours are indexed. */
      max_event_bytes: byteSize()
        .refine((n) => n >= 1024, 'must be at least 1KiB')
        .default(DEFAULT_INGEST_LIMITS.max_event_bytes),
      /** Deeper nesting of objects and arrays in an event's doc (the doc is level 1) is dead-lettered unparsed. */
      max_depth: z.number().int().min(2).max(1000).default(DEFAULT_INGEST_LIMITS.max_depth),
      /** Invalid events of one request kept one by one; the rest are counted in one summary dead letter. */
      max_dead_letters_per_request: z.number().int().min(1).max(100_000).default(DEFAULT_INGEST_LIMITS.max_dead_letters_per_request),
    })
    .default(DEFAULT_INGEST_LIMITS),
  tls: z
    .strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      /** Require client certificates signed by this CA (mutual TLS). */
      client_ca: z.string().min(1).optional(),
    })
    .optional(),
  bulk: z
    .strictObject({
      /** How long one ingest request keeps retrying Elasticsearch before answering 503 (the agent retries). */
      retry_budget: durationMs().default(20_000),
    })
    .default({ retry_budget: 20_000 }),
}).superRefine((c, ctx) => {
  const names = [...c.api.tokens.map((t) => t.name), ...c.agent_tokens.flatMap((t) => (typeof t === 'string' ? [] : [t.name]))];
  for (const name of duplicateNames(names)) ctx.addIssue({ code: 'custom', path: ['api', 'tokens'], message: `the principal name "${name}" is used twice (api.tokens and agent_tokens names are what the audit trail records)` });
});

export type CollectorConfigFile = z.infer<typeof schema>;

export interface CollectorConfig extends Omit<CollectorConfigFile, 'elasticsearch' | 'listen' | 'tls'> {
  listen: { host: string; port: number };
  /** PEM contents read at start-up. */
  tls?: { cert: string; key: string; clientCa?: string };
  elasticsearch: Omit<CollectorConfigFile['elasticsearch'], 'url' | 'urls' | 'ca_cert'> & { nodes: string[]; ca?: string };
}

export function loadCollectorConfig(file: string, env: Record<string, string | undefined> = process.env): CollectorConfig {
  const raw = loadYamlConfig(file, schema, env);
  return normalizeCollectorConfig(raw, dirname(resolve(file)));
}

export function normalizeCollectorConfig(raw: CollectorConfigFile, baseDir: string): CollectorConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const cut = raw.listen.lastIndexOf(':');
  const { url, urls, ca_cert, ...es } = raw.elasticsearch;
  let ca: string | undefined;
  if (ca_cert) {
    try {
      ca = readFileSync(abs(ca_cert), 'utf8');
    } catch (err) {
      throw new Error(`elasticsearch.ca_cert: cannot read ${abs(ca_cert)}: ${(err as Error).message}`);
    }
  }
  const readPem = (key: string, file: string) => {
    try {
      return readFileSync(abs(file), 'utf8');
    } catch (err) {
      throw new Error(`${key}: cannot read ${abs(file)}: ${(err as Error).message}`);
    }
  };
  const tls = raw.tls && {
    cert: readPem('tls.cert', raw.tls.cert),
    key: readPem('tls.key', raw.tls.key),
    clientCa: raw.tls.client_ca ? readPem('tls.client_ca', raw.tls.client_ca) : undefined,
  };
  return {
    ...raw,
    tls,
    listen: { host: raw.listen.slice(0, cut).replace(/^\[|\]$/g, ''), port: Number(raw.listen.slice(cut + 1)) },
    elasticsearch: { ...es, nodes: [...(urls ?? []), ...(url ? [url] : [])], ca },
    rules_dir: abs(raw.rules_dir),
  };
}

export const collectorConfigSchema = schema;
