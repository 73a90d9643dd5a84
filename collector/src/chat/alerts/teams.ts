// Microsoft Teams incoming webhook (a Workflows "post to a channel when a webhook request is
// received" URL, or a legacy Office 365 connector URL): an Adaptive Card per message. Teams
// webhooks only post, so the alert is one card and each lifecycle change another card, with
// the change on top and the incident's current state below (as Slack/Mattermost webhook mode).
import type { Incident, Severity } from '@stacklens/detection';
import { alertView } from './render.js';
import { WebhookSender, type WebhookBodies } from './webhook.js';

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
/** Adaptive Card colours Teams draws (TextBlock.color) per severity. */
const SEVERITY_COLOUR: Record<Severity, string> = { critical: 'Attention', high: 'Attention', medium: 'Warning', low: 'Accent' };
/** Teams refuses messages over about 28 KB: the long texts are cut well below. */
const MAX_TEXT = 2000;

const cut = (s: string, n = MAX_TEXT) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The Adaptive Card of an incident; `change` (a lifecycle step in words) heads it when it tells one. */
export function teamsCard(inc: Incident, change?: string): Record<string, unknown> {
  const v = alertView(inc);
  const body: Record<string, unknown>[] = [];
  if (change) body.push({ type: 'TextBlock', text: cut(change, 500), weight: 'Bolder', wrap: true });
  body.push(
    { type: 'TextBlock', text: `${inc.severity.toUpperCase()} · ${v.status}`, color: SEVERITY_COLOUR[inc.severity] ?? 'Default', weight: 'Bolder', size: 'Small', spacing: change ? 'Medium' : 'None' },
    { type: 'TextBlock', text: cut(v.title, 200), size: 'Large', weight: 'Bolder', wrap: true },
    { type: 'FactSet', facts: v.fields.map((f) => ({ title: f.title, value: cut(f.value, 500) })) },
  );
  if (v.analysis) body.push({ type: 'TextBlock', text: cut(v.analysis), wrap: true });
  body.push({ type: 'TextBlock', text: `StackLens incident ${inc.id}`, isSubtle: true, size: 'Small', wrap: true });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    fallbackText: v.fallback,
    body,
    actions: v.ticket ? [{ type: 'Action.OpenUrl', title: `Jira ${v.ticket.key}`, url: v.ticket.url }] : [],
  };
}

/** The webhook message carrying one card, as Teams takes it. */
export function teamsMessage(inc: Incident, change?: string): { type: 'message'; attachments: { contentType: string; contentUrl: null; content: Record<string, unknown> }[] } {
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD, contentUrl: null, content: teamsCard(inc, change) }] };
}

export const TEAMS_WEBHOOK: WebhookBodies = {
  post: (_dest, inc) => teamsMessage(inc),
  reply: (_ref, inc, text) => teamsMessage(inc, text),
};

/** The sender of a Teams webhook: the shared webhook path (429 + Retry-After and 5xx retried, other 4xx final, a timeout). */
export const teamsSender = (webhookUrl: string, timeoutMs: number, observe: (result: string) => void) => new WebhookSender('teams', webhookUrl, observe, TEAMS_WEBHOOK, timeoutMs);

/** The connection test's card: Teams webhooks have no read-only endpoint, so testing one posts this. */
export function teamsTestMessage(name: string): ReturnType<typeof teamsMessage> {
  const content = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [{ type: 'TextBlock', text: `StackLens connection test for ${cut(name, 100)}: incident alerts will arrive here.`, wrap: true }],
  };
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD, contentUrl: null, content }] };
}
