// What an incident alert says, once, then drawn for each platform: Slack Block Kit and
// Mattermost message attachments with interactive actions.
// ACTIONS (the buttons) is also what chat/ops/ accepts back.
import type { Incident, Severity, TimelineEntry } from '@stacklens/detection';
import { ticketSummary } from '../../integrations/jira.js';

export const ACTIONS = [
  { id: 'ack', text: 'Acknowledge', style: 'primary' },
  { id: 'resolve', text: 'Resolve', style: 'primary' },
  { id: 'ticket', text: 'Create ticket', style: undefined },
  { id: 'silence', text: 'Silence 1 h', style: 'danger' },
] as const;
export type ChatAction = (typeof ACTIONS)[number]['id'];

const SEVERITY_COLOUR: Record<Severity, string> = { critical: '#d62728', high: '#ff7f0e', medium: '#f2c80f', low: '#1f77b4' };
const SEVERITY_ICON: Record<Severity, string> = { critical: ':red_circle:', high: ':large_orange_circle:', medium: ':large_yellow_circle:', low: ':large_blue_circle:' };

interface Field {
  title: string;
  value: string;
}

export interface AlertView {
  title: string;
  colour: string;
  status: string;
  fields: Field[];
  analysis?: string;
  ticket?: { key: string; url: string };
  /** Buttons that still make sense in this state. */
  actions: (typeof ACTIONS)[number][];
  fallback: string;
}

const sampleValues = (inc: Incident, field: string): string[] => {
  const [a, b] = field.split('.');
  return [...new Set(inc.samples.map((s: any) => s?.[a]?.[b]).filter((v) => v !== undefined && v !== null).map(String))];
};

export function alertView(inc: Incident): AlertView {
  // The same headline as the Jira ticket: severity, error type, the message, the group.
  const title = ticketSummary(inc).slice(0, 150);
  const fields: Field[] = [
    { title: 'Severity', value: inc.severity },
    { title: 'Status', value: inc.status + (inc.acknowledged_by && inc.status === 'acknowledged' ? ` (by ${inc.acknowledged_by})` : inc.resolved_by && inc.status === 'resolved' ? ` (by ${inc.resolved_by})` : '') },
    { title: 'Events', value: `${inc.count} (first ${inc.first_seen}, last ${inc.last_seen})` },
    { title: 'Rule', value: inc.rule },
  ];
  const stores = sampleValues(inc, 'pos.store_id');
  const kiosks = sampleValues(inc, 'pos.kiosk_id');
  if (stores.length) fields.push({ title: 'Store', value: stores.join(', ') });
  if (kiosks.length) fields.push({ title: 'Kiosk', value: kiosks.join(', ') });
  if (inc.group_key && !stores.length) fields.push({ title: 'Group', value: inc.group_key });
  const t = inc.triage as any;
  let analysis: string | undefined;
  if (t?.analysis?.root_cause) {
    analysis = `AI root cause (confidence ${Math.round(Number(t.analysis.confidence) * 100)}%): ${t.analysis.root_cause}`;
    const suggestions: { action?: string }[] = Array.isArray(t.analysis.suggestions) ? t.analysis.suggestions : [];
    if (suggestions.length) analysis += `\nSuggested fixes:\n${suggestions.slice(0, 3).map((x, i) => `${i + 1}. ${x.action ?? String(x)}`).join('\n')}`;
  } else if (t) {
    analysis = `Runbook: ${inc.runbook || '(none)'}${t.note ? ` (${t.note})` : ''}`;
  }
  const actions = ACTIONS.filter((a) => {
    if (inc.status === 'resolved') return false;
    if (a.id === 'ack') return inc.status === 'open';
    if (a.id === 'ticket') return !inc.ticket;
    return true;
  });
  const fallback = `${title} — ${inc.count} event(s), ${inc.status}${inc.ticket ? `, ${inc.ticket.key}` : ''}`;
  return { title, colour: SEVERITY_COLOUR[inc.severity] ?? '#888888', status: inc.status, fields, analysis, ticket: inc.ticket, actions, fallback };
}

/** Slack Block Kit for an alert; button values carry the incident id. */
export function slackBlocks(inc: Incident): { text: string; blocks: unknown[] } {
  const v = alertView(inc);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: v.title, emoji: true } },
    { type: 'section', fields: v.fields.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: `*${f.title}*\n${escapeSlack(f.value)}` })) },
  ];
  if (v.analysis) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(v.analysis).slice(0, 2900) } });
  if (v.ticket) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Jira: <${v.ticket.url}|${v.ticket.key}>` }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${SEVERITY_ICON[inc.severity] ?? ''} StackLens incident \`${inc.id}\`` }] });
  if (v.actions.length) {
    blocks.push({
      type: 'actions',
      block_id: `stacklens:${inc.id}`,
      elements: v.actions.map((a) => ({ type: 'button', action_id: `stacklens_${a.id}`, text: { type: 'plain_text', text: a.text }, value: inc.id, ...(a.style ? { style: a.style } : {}) })),
    });
  }
  return { text: v.fallback, blocks };
}

/** A Mattermost attachment; each action calls back with a context the collector signed. */
export function mattermostAttachment(inc: Incident, callback: ((action: string) => { url: string; context: Record<string, unknown> }) | undefined): Record<string, unknown> {
  const v = alertView(inc);
  return {
    fallback: v.fallback,
    color: v.colour,
    title: v.title,
    text: [v.analysis, v.ticket ? `Jira: [${v.ticket.key}](${v.ticket.url})` : undefined, `StackLens incident \`${inc.id}\``].filter(Boolean).join('\n'),
    fields: v.fields.map((f) => ({ title: f.title, value: f.value, short: f.title !== 'Events' })),
    actions: callback ? v.actions.map((a) => ({ id: a.id, name: a.text, type: 'button', style: a.style ?? 'default', integration: callback(a.id) })) : [],
  };
}

const THREAD_STAGES = new Set(['acknowledged', 'resolved', 'reopened', 'silenced', 'triage_completed', 'triage_failed', 'ticket_created', 'ticket_failed']);

/** The thread reply for a timeline entry, or undefined for stages the thread does not need. */
export function threadText(inc: Incident, e: TimelineEntry): string | undefined {
  if (!THREAD_STAGES.has(e.stage)) return undefined;
  const by = e.by ? ` by ${e.by}` : '';
  switch (e.stage) {
    case 'ticket_created':
      return `Jira ticket ${inc.ticket ? `${inc.ticket.key} ${inc.ticket.url}` : (e.note ?? '')}`;
    case 'triage_completed':
      return `Triage done${e.note ? ` (${e.note})` : ''}.`;
    default:
      return `${e.stage.replace('_', ' ')}${by}${e.note ? `: ${e.note}` : ''}`.replace(/^./, (c) => c.toUpperCase());
  }
}

function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
