// What StackLens mails: one per incident (the facts of its Jira ticket) and a digest per
// team and period. Message-IDs are derived from what the mail is about, so a retry of the
// same mail (an outbox task run again after a crash between sending and recording) carries
// the same id — mail clients show it once — and the incident's mail starts the thread later
// mails about it continue (In-Reply-To, References).
import type { Client } from '@elastic/elasticsearch';
import { INDICES } from '@stacklens/common';
import type { Incident } from '@stacklens/detection';
import { ticketDescription, ticketSummary } from '../jira.js';
import type { TriageResult } from '../triage.js';
import { adfToHtml, adfToText, escapeHtml } from './render.js';
import type { Mail } from './mailer.js';
import type { EmailConfig } from './mailer.js';

const DOMAIN = 'stacklens';

/** The Message-ID of an incident's first mail: the thread of everything mailed about it. */
export const incidentThreadId = (incidentId: string) => `incident.${incidentId}@${DOMAIN}`;

const wrapHtml = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:48em">${body}</body></html>`;

export function incidentMail(inc: Incident, triage: TriageResult | undefined, cfg: Pick<EmailConfig, 'kibana_url' | 'grafana_url'>, to: string[]): Mail {
  const doc = ticketDescription(inc, triage, cfg);
  const subject = ticketSummary(inc);
  const ticket = inc.ticket ? `Jira: ${inc.ticket.key}${inc.ticket.url ? ` ${inc.ticket.url}` : ''}` : undefined;
  const text = `${adfToText(doc as never)}${ticket ? `\n\n${ticket}` : ''}\n`;
  const html = wrapHtml(subject, `${adfToHtml(doc as never)}${ticket ? `<p>${inc.ticket?.url ? `<a href="${escapeHtml(inc.ticket.url)}">${escapeHtml(inc.ticket.key)}</a>` : escapeHtml(inc.ticket!.key)}</p>` : ''}`);
  return {
    to,
    subject,
    text,
    html,
    messageId: incidentThreadId(inc.id),
    headers: { 'X-StackLens-Incident': inc.id, 'X-StackLens-Severity': inc.severity },
  };
}

export interface DigestFacts {
  team: string;
  from: string;
  to: string;
  open: Record<string, number>;
  opened: number;
  resolved: number;
  templates: { template: string; events: number; incidents: number }[];
  /** Mean seconds from detection to acknowledgement of the incidents acknowledged in the period (undefined when none were). */
  mttaSeconds?: number;
  acknowledged: number;
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** The numbers of one team's digest, read from stacklens-incidents. */
export async function digestFacts(es: Client, team: string, from: number, to: number): Promise<DigestFacts> {
  const inTeam = { term: { 'labels.team': team } };
  const range = (field: string) => ({ range: { [field]: { gte: new Date(from).toISOString(), lt: new Date(to).toISOString() } } });
  const res: any = await es.search({
    index: INDICES.incidents,
    size: 0,
    ignore_unavailable: true,
    query: inTeam,
    aggs: {
      open: { filter: { terms: { status: ['open', 'acknowledged'] } }, aggs: { severity: { terms: { field: 'severity', size: 10 } } } },
      opened: { filter: range('detected_at') },
      resolved: { filter: range('resolved_at') },
      acknowledged: { filter: range('acknowledged_at'), aggs: { mtta: { avg: { field: 'time_to_acknowledge_seconds' } } } },
      templates: { filter: range('last_seen'), aggs: { top: { terms: { field: 'message_template', size: 5, order: { events: 'desc' } }, aggs: { events: { sum: { field: 'count' } } } } } },
    },
  } as never);
  const a = res.aggregations ?? {};
  const open: Record<string, number> = {};
  for (const b of a.open?.severity?.buckets ?? []) open[b.key] = b.doc_count;
  return {
    team,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    open,
    opened: a.opened?.doc_count ?? 0,
    resolved: a.resolved?.doc_count ?? 0,
    acknowledged: a.acknowledged?.doc_count ?? 0,
    mttaSeconds: a.acknowledged?.mtta?.value ?? undefined,
    templates: (a.templates?.top?.buckets ?? []).map((b: any) => ({ template: String(b.key), events: b.events?.value ?? 0, incidents: b.doc_count })),
  };
}

const duration = (s: number) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export function digestMail(f: DigestFacts, to: string[]): Mail {
  const openTotal = Object.values(f.open).reduce((n, c) => n + c, 0);
  const severities = SEVERITY_ORDER.filter((s) => f.open[s]).map((s) => `${s} ${f.open[s]}`);
  const subject = `StackLens digest for ${f.team}: ${openTotal} open, ${f.opened} opened, ${f.resolved} resolved (${f.from.slice(0, 16).replace('T', ' ')} – ${f.to.slice(0, 16).replace('T', ' ')} UTC)`;
  const lines = [
    `Team ${f.team}, ${f.from} to ${f.to}`,
    '',
    `Open now: ${openTotal}${severities.length ? ` (${severities.join(', ')})` : ''}`,
    `Opened in the period: ${f.opened}`,
    `Resolved in the period: ${f.resolved}`,
    `Mean time to acknowledge: ${f.mttaSeconds === undefined ? 'no incident acknowledged in the period' : `${duration(f.mttaSeconds)} (${f.acknowledged} acknowledged)`}`,
    '',
    'Top message templates:',
    ...(f.templates.length ? f.templates.map((t) => `  - ${t.template} (${t.events} events, ${t.incidents} incident(s))`) : ['  (none in the period)']),
  ];
  const html = wrapHtml(
    subject,
    `<h2>StackLens digest: ${escapeHtml(f.team)}</h2><p>${escapeHtml(f.from)} to ${escapeHtml(f.to)}</p>` +
      `<table border="1" cellpadding="4" style="border-collapse:collapse"><tr><th align="left">Open now</th><td>${openTotal}${severities.length ? ` (${escapeHtml(severities.join(', '))})` : ''}</td></tr>` +
      `<tr><th align="left">Opened</th><td>${f.opened}</td></tr><tr><th align="left">Resolved</th><td>${f.resolved}</td></tr>` +
      `<tr><th align="left">Mean time to acknowledge</th><td>${f.mttaSeconds === undefined ? 'none acknowledged' : `${escapeHtml(duration(f.mttaSeconds))} (${f.acknowledged})`}</td></tr></table>` +
      `<h3>Top message templates</h3><ul>${f.templates.map((t) => `<li><code>${escapeHtml(t.template)}</code> — ${t.events} events, ${t.incidents} incident(s)</li>`).join('') || '<li>none in the period</li>'}</ul>`,
  );
  return { to, subject, text: `${lines.join('\n')}\n`, html, messageId: `digest.${f.team}.${f.to.replace(/[^0-9TZ]/g, '')}@${DOMAIN}`, headers: { 'X-StackLens-Digest': f.team } };
}
