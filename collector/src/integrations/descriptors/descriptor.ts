// What one integration type is, in one place: its collector.yaml section (the same schema
// validates the admin API's settings), which of its keys are secrets and which say where it
// connects, its connection test, what it lets a collector run (outbox capabilities), and
// whether rules name it in `notify:`. The list of them is ./index.ts; everything that used
// to enumerate integrations by name reads it.
import type { z } from 'zod';
import type { Logger } from '@stacklens/common';
import type { ChatSender } from '../../chat/alerts/sender.js';

/** What building a chat sender may use besides the settings. */
export interface SenderContext {
  log: Logger;
  /** Counts each platform call's outcome (stacklens_external_requests_total). */
  observe: (result: string) => void;
}

/** Incident alerts in chat (chat/alerts/alerts.ts): the channel alerts go to when no team route names one, and the sender. */
export interface ChatAlertsOf<S extends z.ZodType> {
  defaultChannel(settings: z.infer<S>): string;
  /** The platform's sender for these settings: a bot (edits, threads, buttons) or an incoming webhook (post only). */
  sender(settings: z.infer<S>, ctx: SenderContext): ChatSender;
  /**
   * What a chat task for a workspace needs, given this collector's capabilities (default: the
   * platform's type). Slack: slack:<team> too where this collector has that workspace's own token.
   */
  taskNeeds?(workspace: string, capabilities: readonly string[]): string[];
}

export interface IntegrationDescriptor<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  /** How messages name the service: "HTTP 401 from Jira". */
  readonly service: string;
  /** The `integrations.<type>` section of collector.yaml, and the admin API's settings. */
  readonly configSchema: S;
  /** Settings sealed at rest and never shown by the admin API (webhook URLs carry their credential). */
  readonly secretKeys: readonly string[];
  /** Keys that say where it connects, whatever their value (any http(s) URL value counts too). */
  readonly destinationKeys?: readonly string[];
  /** "Test connection": one cheap call, answering with a short message naming who we are connected as. */
  test(settings: z.infer<S>): Promise<string>;
  /** The per-request timeout the test's client uses when the settings have none (ms). */
  readonly testTimeoutMs?: number;
  /** What a collector with this integration can run (outbox needs). */
  capabilities(settings: z.infer<S>): string[];
  /** A rule names it in `notify:` as `<type>` (and `<type>:<channel>` when `channels`). */
  readonly notify?: { channels: boolean };
  /** Incident alerts in chat: a type with chatAlerts is an alert platform (its type is the platform's name). */
  readonly chatAlerts?: ChatAlertsOf<S>;
}

/** An integration that posts incident alerts in chat. */
export type ChatIntegrationDescriptor<T extends string = string, S extends z.ZodType = z.ZodType> = IntegrationDescriptor<T, S> & { readonly chatAlerts: ChatAlertsOf<S> };

/** Keeps the literal type and the schema's own settings type for test() and capabilities(). */
export const defineIntegration = <T extends string, S extends z.ZodType>(d: IntegrationDescriptor<T, S>): IntegrationDescriptor<T, S> => d;

/** As defineIntegration, for a chat alert platform (its type then counts among the alert platforms). */
export const defineChatIntegration = <T extends string, S extends z.ZodType>(d: ChatIntegrationDescriptor<T, S>): ChatIntegrationDescriptor<T, S> => d;

/** An identity value from an answer: a short name, version or address; anything else is not shown. */
export function shown(value: unknown): string {
  return typeof value === 'string' && /^[\p{L}\p{N} ._@+()'#-]{1,64}$/u.test(value.trim()) ? value.trim() : '(unnamed)';
}
