// collector.yaml, validated at start-up; errors name file, line and key.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { loadYamlConfig, byteSize, durationMs, httpUrl } from '@stacklens/common';
import { DEFAULT_INGEST_LIMITS } from './ingest/limits.js';
import { agentTokenSchema, apiTokenSchema, duplicateNames, tokenValue } from './security/principals.js';
import { rateLimitsSchema } from './security/rate-limit.js';
import { SEVERITIES } from '@stacklens/detection';
import { integrationsSchema } from './integrations/descriptors/index.js';
import type { slackSchema as slackSchemaT } from './integrations/descriptors/slack.js';
import type { mattermostSchema as mattermostSchemaT } from './integrations/descriptors/mattermost.js';


// Each integration's section is its descriptor's schema (integrations/descriptors/<type>.ts).
export { jiraSchema } from './integrations/descriptors/jira.js';
export { openaiSchema } from './integrations/descriptors/openai.js';
export { xeroSchema } from './integrations/descriptors/xero.js';
export { slackSchema } from './integrations/descriptors/slack.js';
export { mattermostSchema } from './integrations/descriptors/mattermost.js';
import { emailAddress } from './integrations/descriptors/email.js';
import { digestSchedule } from './integrations/email/digest-schedule.js';

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
  severity: z.union([z.enum(SEVERITIES), z.array(z.enum(SEVERITIES))]).transform((v) => (Array.isArray(v) ? v : [v])).optional(),
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
          /** Where the team's incident mails go (rules with notify: [email]) and its digests. */
          email: z.array(emailAddress()).optional(),
          /** A digest of the team's incidents mailed to `email`: "hourly" or "daily HH:MM" (UTC). */
          email_digest: digestSchedule().optional(),
        }),
      )
      .default({}),
  })
  .default({ answer_within: 2500, teams: {} });

export type ChatConfig = z.infer<typeof chatSchema>;
export type SlackConfig = z.infer<typeof slackSchemaT>;
export type MattermostConfig = z.infer<typeof mattermostSchemaT>;

const schema = z.strictObject({
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8080')
    .default('127.0.0.1:8080'),
  elasticsearch: z
    .strictObject({
      url: httpUrl().optional(),
      urls: z.array(httpUrl()).min(1, 'needs at least one URL').optional(),
      api_key: z.string().min(1).optional(),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      ca_cert: z.string().min(1).optional(),
      request_timeout: durationMs().default(30_000),
      /**
       * Replica copies of StackLens indices: 'auto' (default) = 1 once the cluster has two data
       * nodes, 0 on one; a number sets it exactly (new indices and existing StackLens ones).
       */
      replicas: z.union([z.literal('auto'), z.number().int().min(0).max(10)], { error: "must be 'auto' or a whole number from 0 to 10" }).default('auto'),
    })
    .refine((e) => e.url || e.urls, { message: 'needs url (or urls)' })
    .refine((e) => !(e.url && e.urls), { message: 'url and urls together: list every node under urls' })
    .refine((e) => !e.urls || new Set(e.urls).size === e.urls.length, { message: 'urls lists a node twice' })
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
  /**
   * Message templates mined at ingest (stacklens.template_id / message_template; README
   * "Message templates"). Off: events get none, and per-template rules see one template.
   */
  message_templates: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Templates learned per dataset; past it, new kinds of message get an unlearned id from their masked text. */
      max_per_dataset: z.number().int().min(1).max(1_000_000).default(10_000),
    })
    .default({ enabled: true, max_per_dataset: 10_000 }),
  /** External services: what an incident's rule `notify:` sets off. Secrets from the environment. */
  integrations: integrationsSchema,
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
      /** A search export whose client takes nothing for this long is cut off (it holds one of 4 export slots). */
      export_idle_timeout: durationMs().default(60_000),
    })
    .default({ tokens: [], admin_tokens: [], viewer_tokens: [], export_idle_timeout: 60_000 }),
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
