// Every integration type, one descriptor each (./<type>.ts). collector.yaml's `integrations`
// section, the admin API (types, secrets, destinations), connection tests, run-time
// overrides, outbox capabilities, metrics labels, the chat alert platforms (their names and
// senders) and the rule `notify:` targets all read this list. A new integration: its
// descriptor file and one line here.
import { z } from 'zod';
import { NOTIFY_TARGETS } from '@stacklens/detection';
import type { ChatIntegrationDescriptor, IntegrationDescriptor } from './descriptor.js';
import { jira } from './jira.js';
import { openai } from './openai.js';
import { xero } from './xero.js';
import { slack } from './slack.js';
import { mattermost } from './mattermost.js';
import { teams } from './teams.js';
import { email } from './email.js';

export const INTEGRATIONS = [jira, openai, xero, slack, mattermost, teams, email] as const;

type Descriptor = (typeof INTEGRATIONS)[number];
export type IntegrationType = Descriptor['type'];

/** An integration type's descriptor, or undefined (own keys only: "__proto__" is no type). */
export function integration(type: string): IntegrationDescriptor | undefined {
  return (INTEGRATIONS as readonly IntegrationDescriptor[]).find((d) => d.type === type);
}

/** collector.yaml's `integrations`: each type's section, all optional. */
type Shape = { [D in Descriptor as D['type']]: z.ZodOptional<D['configSchema']> };
export const integrationsSchema = z.strictObject(Object.fromEntries(INTEGRATIONS.map((d) => [d.type, d.configSchema.optional()])) as unknown as Shape).default({});

/** The settings of each configured integration type. */
export type IntegrationConfigs = z.infer<typeof integrationsSchema>;

/** What a collector with these integrations can run (the outbox's capabilities). */
export function capabilitiesOf(cfg: Partial<Record<IntegrationType, unknown>>): string[] {
  return (INTEGRATIONS as readonly IntegrationDescriptor[]).flatMap((d) => (cfg[d.type as IntegrationType] ? d.capabilities(cfg[d.type as IntegrationType]) : []));
}

/** Keys that say where an integration connects (union over the types; the admin API refuses moving stored secrets to a new one). */
export const DESTINATION_KEYS: ReadonlySet<string> = new Set(INTEGRATIONS.flatMap((d) => (d as IntegrationDescriptor).destinationKeys ?? []));

/** The types a rule may name in `notify:`, as the rule schema (detection's NOTIFY_TARGETS) accepts them. */
export const notifyTargets = (): string[] => (INTEGRATIONS as readonly IntegrationDescriptor[]).filter((d) => d.notify).map((d) => d.type);

/** The chat alert platforms' descriptors (defined with defineChatIntegration). */
export type ChatDescriptor = Extract<Descriptor, { chatAlerts: object }>;
/** The platforms incident alerts go to, by integration type: the one list of chat platform names. */
export type ChatPlatformType = ChatDescriptor['type'];

const isChat = (d: Descriptor): d is ChatDescriptor => (d as IntegrationDescriptor).chatAlerts !== undefined;
/** The descriptors with chatAlerts, in INTEGRATIONS order. */
export const CHAT_INTEGRATIONS: readonly ChatDescriptor[] = INTEGRATIONS.filter(isChat);
/** The platforms incident alerts go to (chat/alerts/alerts.ts): the types with chatAlerts. */
export const CHAT_PLATFORMS: readonly ChatPlatformType[] = CHAT_INTEGRATIONS.map((d) => d.type);
/** Is this integration type (a notify target, a chat message's platform) a chat alert platform? */
export const isChatPlatform = (type: string): type is ChatPlatformType => (CHAT_PLATFORMS as readonly string[]).includes(type);
/** Does a rule's notify name channels on this platform (`<type>:<channel>`, team routes), or is it bound to one channel (a Teams webhook)? */
export const hasChannels = (type: ChatPlatformType): boolean => (integration(type)?.notify?.channels ?? false);

/** Label values of stacklens_external_requests_total's `service`, initialised at 0. */
export const METRIC_SERVICES: readonly string[] = INTEGRATIONS.map((d) => d.type);

export { NOTIFY_TARGETS };
export type { ChatIntegrationDescriptor, IntegrationDescriptor };
