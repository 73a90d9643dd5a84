// Jira tickets (jira.js, REST v3): one per incident. Before creating, search for an open
// ticket carrying the incident's fingerprint label — a crash between "created" and
// "recorded" must not make a second one. The description is Atlassian Document Format.
import { Version3Client } from 'jira.js';
import type { Incident } from '@stacklens/detection';
import { RetryableError } from '../outbox/outbox.js';
import type { TriageResult } from './triage.js';
import { redactSecrets } from './redact.js';
import type { z } from 'zod';
import type { jiraSchema } from '../config.js';

/** integrations.jira as validated (config.ts is the one definition). */
export type JiraConfig = z.infer<typeof jiraSchema>;

export interface Ticket {
  key: string;
  url: string;
  /** True when an existing ticket was found (after a crash) instead of created. */
  found: boolean;
}

export const fingerprintLabel = (inc: Incident) => `stacklens-${inc.fingerprint.slice(0, 16)}`;

export function errorType(inc: Incident): string {
  const fromSample = (inc.samples[0] as any)?.error?.type;
  return String(inc.labels.error_type ?? fromSample ?? inc.rule).replace(/\s+/g, '_');
}

/** `[CRITICAL] MISSING_PRICE: Product #999 has no price (STORE_001)` */
export function ticketSummary(inc: Incident): string {
  const message = String((inc.samples[0] as any)?.message ?? inc.message_template ?? inc.summary);
  const group = Object.values(inc.group).filter((v) => v !== null).join(', ');
  return redactSecrets(`[${inc.severity.toUpperCase()}] ${errorType(inc)}: ${message}${group ? ` (${group})` : ''}`).slice(0, 250);
}

// --- Atlassian Document Format -----------------------------------------------------------
type Node = Record<string, unknown>;
const text = (t: string, marks?: Node[]): Node => ({ type: 'text', text: t, ...(marks ? { marks } : {}) });
const paragraph = (...content: Node[]): Node => ({ type: 'paragraph', content });
const heading = (level: number, t: string): Node => ({ type: 'heading', attrs: { level }, content: [text(t)] });
const bullets = (items: Node[][]): Node => ({ type: 'bulletList', content: items.map((c) => ({ type: 'listItem', content: [paragraph(...c)] })) });
const code = (t: string): Node => ({ type: 'codeBlock', attrs: { language: 'text' }, content: [text(t)] });
const link = (t: string, href: string): Node => text(t, [{ type: 'link', attrs: { href } }]);
const strong = (t: string): Node => text(t, [{ type: 'strong' }]);

export function ticketDescription(inc: Incident, triage: TriageResult | undefined, cfg: Pick<JiraConfig, 'kibana_url' | 'grafana_url'>): Node {
  const content: Node[] = [
    heading(3, 'What happened'),
    paragraph(text(`${inc.description || inc.rule}: ${inc.summary}.`)),
    bullets([
      [strong('Rule: '), text(`${inc.rule} (${inc.rule_type}, ${inc.severity})`)],
      [strong('Where: '), text(inc.group_key || 'all events')],
      [strong('Count: '), text(`${inc.count} event(s), first ${inc.first_seen}, last ${inc.last_seen}`)],
      [strong('Incident: '), text(`${inc.id} (fingerprint ${inc.fingerprint})`)],
    ]),
  ];
  const kiosks = [...new Set(inc.samples.map((s) => (s as any).pos?.kiosk_id).filter(Boolean))];
  if (kiosks.length) content.push(paragraph(strong('Kiosks: '), text(kiosks.join(', '))));
  if (inc.samples.length) {
    content.push(heading(3, 'Sample lines'));
    content.push(code(inc.samples.slice(0, 3).map((s) => redactSecrets(String((s as any).event?.original ?? `${s['@timestamp']} ${s.message}`))).join('\n')));
  }
  content.push(heading(3, 'Analysis'));
  if (triage?.source === 'llm' && triage.analysis) {
    const a = triage.analysis;
    content.push(paragraph(strong('Root cause: '), text(`${a.root_cause} (category ${a.category}, confidence ${Math.round(a.confidence * 100)}%, ${triage.model})`)));
    content.push(heading(4, 'Suggested fixes'));
    content.push(bullets(a.suggestions.map((s) => [text(`${s.priority}. ${s.action}${s.estimated_time ? ` (~${s.estimated_time})` : ''}${s.automation_possible ? ' [automatable]' : ''}`)])));
  } else {
    content.push(paragraph(text(`Runbook triage${triage?.note ? ` (${triage.note})` : ''}:`)));
  }
  if (inc.runbook) content.push(paragraph(strong('Runbook: '), text(inc.runbook)));
  if (triage?.xero) content.push(paragraph(strong('Accounting (Xero): '), text(triage.xero.summary)));
  else if (triage?.xero_note) content.push(paragraph(strong('Accounting (Xero): '), text(triage.xero_note)));
  if (triage?.similar?.length) {
    content.push(heading(4, 'Similar past incidents'));
    content.push(bullets(triage.similar.map((s) => [text(`${s.id} (${s.rule}, ${s.status}${s.resolved_by ? ` by ${s.resolved_by}` : ''}): ${s.summary}`)])));
  }
  const links: Node[] = [];
  if (cfg.kibana_url) links.push(link('Kibana: the matching events', `${cfg.kibana_url.replace(/\/$/, '')}/app/discover#/?_a=(query:(language:kuery,query:'${inc.template_id ? `stacklens.template_id:"${encodeURIComponent(inc.template_id)}"` : `stacklens.message_template:"${encodeURIComponent(inc.message_template)}"`}'))`));
  if (cfg.grafana_url) links.push(link('Grafana: POS errors dashboard', `${cfg.grafana_url.replace(/\/$/, '')}/d/stacklens-pos-errors`));
  if (links.length) content.push(paragraph(...links.flatMap((l, i) => (i ? [text(' · '), l] : [l]))));
  return { type: 'doc', version: 1, content };
}

export class Jira {
  private readonly client: Version3Client;

  constructor(
    private readonly cfg: JiraConfig,
    /** Told how each request ended: ok, retryable or refused. */
    private readonly observe: (result: 'ok' | 'retryable' | 'refused') => void = () => {},
  ) {
    this.client = new Version3Client({ host: cfg.url, authentication: { basic: { email: cfg.email, apiToken: cfg.api_token } }, baseRequestConfig: { timeout: cfg.timeout ?? 20_000 } });
  }

  async ensureTicket(inc: Incident, triage: TriageResult | undefined): Promise<Ticket> {
    const label = fingerprintLabel(inc);
    const existing = await this.call(() =>
      this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: `labels = "${label}" AND statusCategory != Done`, fields: ['key'], maxResults: 1 }),
    );
    const found = existing.issues?.[0]?.key;
    if (found) return { key: found, url: this.browse(found), found: true };
    const created = await this.call(() =>
      this.client.issues.createIssue({
        fields: {
          project: { key: this.cfg.project },
          issuetype: { name: this.cfg.issue_type },
          summary: ticketSummary(inc),
          description: ticketDescription(inc, triage, this.cfg) as never,
          labels: ['stacklens', 'auto-created', errorType(inc), label],
          priority: { name: (this.cfg.priorities as Partial<Record<string, string>>)[inc.severity] ?? 'Medium' },
          ...(this.cfg.components.length ? { components: this.cfg.components.map((name) => ({ name })) } : {}),
        },
      }),
    );
    // A 200 without the issue's key is no answer (a proxy, a truncated body): retried, and the
    // retry finds the issue by its label if it was created after all.
    if (typeof created?.key !== 'string' || created.key === '') throw new RetryableError('Jira answered the issue creation without an issue key');
    return { key: created.key, url: this.browse(created.key), found: false };
  }

  async comment(key: string, body: string): Promise<void> {
    await this.call(() => this.client.issueComments.addComment({ issueIdOrKey: key, comment: { type: 'doc', version: 1, content: [paragraph(text(redactSecrets(body)))] } as never }));
  }

  /** Connection test: who are we, on which Jira. */
  async test(): Promise<string> {
    const me = await this.call(() => this.client.myself.getCurrentUser());
    const info = await this.call(() => this.client.serverInfo.getServerInfo());
    return `authenticated as ${me.emailAddress ?? me.accountId} on Jira ${info.version ?? ''} (${info.deploymentType ?? 'unknown deployment'})`.replace(/\s+/g, ' ');
  }

  /** Apply the named transition (e.g. "Done"); false when the ticket has no such transition now. */
  async transition(key: string, name: string): Promise<boolean> {
    const { transitions } = await this.call(() => this.client.issues.getTransitions({ issueIdOrKey: key }));
    const match = transitions?.find((t) => t.name?.toLowerCase() === name.toLowerCase() || t.to?.name?.toLowerCase() === name.toLowerCase());
    if (!match?.id) return false;
    await this.call(() => this.client.issues.doTransition({ issueIdOrKey: key, transition: { id: match.id! } }));
    return true;
  }

  private browse(key: string): string {
    return `${this.cfg.url.replace(/\/$/, '')}/browse/${key}`;
  }

  /** jira.js errors → retryable (429 with Retry-After, 5xx, network) or final (4xx). No credentials in messages. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.observe('ok');
      return result;
    } catch (err: any) {
      const status: number | undefined = err?.status ?? err?.response?.status;
      this.observe(!status || status === 429 || status >= 500 ? 'retryable' : 'refused');
      const retryAfter = Number(err?.cause?.response?.headers?.['retry-after'] ?? err?.response?.headers?.['retry-after']);
      const detail = typeof err?.response?.data === 'object' ? JSON.stringify(err.response.data).slice(0, 300) : '';
      if (!status || status === 429 || status >= 500) throw new RetryableError(`Jira ${status ?? 'unreachable'}: ${err?.message ?? err}`, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
      throw new Error(`Jira refused the request (${status}): ${err?.message ?? ''} ${detail}`.trim());
    }
  }
}
