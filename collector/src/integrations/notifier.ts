// From incidents to external actions, through the outbox:
//   incident fires (opened, or reopened outside realert) and its rule notifies someone
//     → task triage:<incident>:<fire_count>  (timeline: triage_pending); again when it grows
//       past 10, 100, 1,000 … events
//   triage done (AI analysis, or runbook triage when no LLM / a bad answer)
//     → incident.triage, timeline triage_completed | triage_failed
//     → task ticket:<incident> when the rule notifies jira  (timeline: ticket_pending)
//   ticket → the open ticket carrying the incident's fingerprint label, or a new one
//     → incident.ticket, timeline ticket_created | ticket_failed
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import { addTimeline, type Incident, type Outcome } from '@stacklens/detection';
import type { ElasticsearchIncidentStore } from '../detection/incident-store.js';
import { Outbox, RetryableError } from '../outbox/outbox.js';
import { Jira, type JiraConfig } from './jira.js';
import { Triage, type OpenAiConfig, type TriageResult } from './triage.js';
import { Xero, type XeroConfig } from './xero.js';
import type { CollectorMetrics } from '../metrics.js';
import type { ChatConfig, MattermostConfig, SlackConfig } from '../config.js';
import { ChatAlerts } from '../chat/alerts.js';
import type { ChatSender } from '../chat/sender.js';
import { SlackSender } from '../chat/slack.js';
import { ActionSigner, MattermostSender } from '../chat/mattermost.js';
import { WebhookSender } from '../chat/webhook.js';

export interface NotifierConfig {
  jira?: JiraConfig;
  openai?: OpenAiConfig;
  xero?: XeroConfig;
  slack?: SlackConfig;
  mattermost?: MattermostConfig;
  chat: ChatConfig;
  retryBudgetMs: number;
}

export interface NotifierOptions {
  metrics?: CollectorMetrics;
}

export class Notifier {
  readonly outbox: Outbox;
  readonly chat: ChatAlerts;
  /** Signs Mattermost button contexts (undefined without Mattermost). */
  mattermostSigner?: ActionSigner;
  slack?: SlackSender;
  mattermost?: MattermostSender;
  private triage!: Triage;
  private jira?: Jira;
  private cfg!: NotifierConfig;

  constructor(
    private readonly es: Client,
    private readonly incidents: ElasticsearchIncidentStore,
    cfg: NotifierConfig,
    private readonly log: Logger,
    private readonly options: NotifierOptions = {},
  ) {
    const metrics = options.metrics;
    this.outbox = new Outbox(
      es,
      { retryBudgetMs: cfg.retryBudgetMs, concurrency: { triage: 4, ticket: 2, chat_post: 2, chat_update: 1 }, onResult: (action, result) => metrics?.outboxTasks.inc({ action, result }) },
      log,
    );
    this.chat = new ChatAlerts(this.outbox, incidents, log.child({ module: 'chat' }));
    this.configure(cfg);
    this.outbox.handle('triage', (task, attempt) => this.runTriage(task.incident_id, attempt.final));
    this.outbox.handle('ticket', (task, attempt) => this.runTicket(task.incident_id, attempt.final));
    this.outbox.handle('comment', (task) => this.runComment(task.incident_id));
    this.outbox.handle('transition', (task) => this.runTransition(task.incident_id));
  }

  /** (Re)build the clients: at start from collector.yaml, later when the admin API changes an integration. */
  configure(cfg: NotifierConfig): void {
    this.cfg = cfg;
    const observe = (service: string) => (result: string) => this.options.metrics?.externalCalls.inc({ service, result });
    this.triage = new Triage(this.es, cfg.openai, cfg.xero ? new Xero(cfg.xero) : undefined, observe('openai'));
    this.jira = cfg.jira ? new Jira(cfg.jira, observe('jira')) : undefined;
    const senders: Partial<Record<'slack' | 'mattermost', ChatSender>> = {};
    const defaults: Partial<Record<'slack' | 'mattermost', string>> = {};
    this.slack = cfg.slack?.bot_token ? new SlackSender(cfg.slack, this.log, observe('slack')) : undefined;
    if (cfg.slack) {
      senders.slack = this.slack ?? new WebhookSender('slack', cfg.slack.webhook_url!, observe('slack'));
      defaults.slack = cfg.slack.channel;
    }
    const m = cfg.mattermost;
    this.mattermostSigner = m ? new ActionSigner(`${m.command_token ?? ''}|${m.token ?? ''}|${m.webhook_url ?? ''}`) : undefined;
    this.mattermost = m?.token ? new MattermostSender(m, this.mattermostSigner!, observe('mattermost')) : undefined;
    if (m) {
      senders.mattermost = this.mattermost ?? new WebhookSender('mattermost', m.webhook_url!, observe('mattermost'));
      defaults.mattermost = m.channel;
    }
    this.chat.configure({ chat: cfg.chat, senders, defaults });
  }

  get config(): NotifierConfig {
    return this.cfg;
  }

  start(): void {
    this.outbox.start();
  }

  /** The engine's hook for every incident opened or updated. */
  async onOutcome(o: Outcome): Promise<void> {
    const inc = o.incident;
    if (inc.notify.length === 0) return;
    if (o.fired) {
      const pending = await this.record(inc.id, (i) => addTimeline(i, { stage: 'triage_pending', at: new Date().toISOString() }));
      await this.outbox.enqueue('triage', inc.id, `triage:${inc.id}:${inc.fire_count}`);
      await this.chat.fired(pending ?? inc);
      return;
    }
    await this.chat.grew(inc);
    // Grown markedly — crossed 10, 100, 1,000 … events: triage again with the new picture.
    if (inc.count >= 10 && !inc.silenced_by) {
      await this.outbox.enqueue('triage', inc.id, `triage:${inc.id}:${inc.fire_count}:x${Math.floor(Math.log10(inc.count))}`);
    }
    if (inc.ticket && this.jira && this.cfg.jira && !inc.silenced_by) {
      // A recurrence: at most one comment per comment_every period (the task id is the period).
      const period = Math.floor(Date.now() / this.cfg.jira.comment_every);
      await this.outbox.enqueue('comment', inc.id, `comment:${inc.id}:${period}`);
    }
  }

  /** Called when a person or the auto-resolver resolves an incident. */
  async onResolved(inc: Incident): Promise<void> {
    await this.chat.changed(inc);
    if (inc.ticket && this.jira && this.cfg.jira?.resolve_transition) await this.outbox.enqueue('transition', inc.id, `transition:${inc.id}:${inc.resolved_at}`);
  }

  /** A person acknowledged (or otherwise changed) the incident: tell the chat messages. */
  async onChanged(inc: Incident): Promise<void> {
    await this.chat.changed(inc);
  }

  /** POST /api/incidents/:id/ticket: a ticket now, whatever the rule's notify says. */
  async requestTicket(inc: Incident, by = 'api'): Promise<string> {
    if (!this.jira) throw new Error('Jira is not configured (integrations.jira)');
    await this.record(inc.id, (i) => {
      i.ticket_state = 'pending';
      addTimeline(i, { stage: 'ticket_pending', at: new Date().toISOString(), by, note: by === 'api' ? 'requested through the API' : 'requested from chat' });
    });
    const id = `ticket:${inc.id}`;
    await this.outbox.enqueue('ticket', inc.id, id);
    return id;
  }

  private async runTriage(incidentId: string, final: boolean): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    let result: TriageResult;
    try {
      result = await this.triage.run(inc);
    } catch (err) {
      if (err instanceof RetryableError && !final) throw err;
      // Out of retries, or refused for good: the ticket goes out with runbook triage.
      result = { source: 'runbook', note: `LLM failed: ${(err as Error).message}`, runbook: inc.runbook, similar: [] };
    }
    const failed = result.source === 'runbook' && Boolean(result.note?.startsWith('LLM'));
    const m = this.options.metrics;
    m?.triages.inc({ source: result.source, result: failed ? 'failed' : 'completed' });
    if (result.latency_ms !== undefined) m?.triageSeconds.observe(result.latency_ms / 1000);
    if (result.tokens) {
      m?.triageTokens.inc({ kind: 'prompt' }, result.tokens.prompt);
      m?.triageTokens.inc({ kind: 'completion' }, result.tokens.completion);
    }
    const triaged = await this.record(incidentId, (i) => {
      i.triage = result as unknown as Record<string, unknown>;
      addTimeline(i, { stage: failed ? 'triage_failed' : 'triage_completed', at: new Date().toISOString(), note: result.source === 'llm' ? `${result.model}, confidence ${result.analysis?.confidence}` : result.note });
    });
    // The ticket first: the chat message is edited once more when it exists anyway.
    if (this.jira && inc.notify.some((n) => n === 'jira' || n.startsWith('jira:')) && !inc.ticket) {
      await this.record(incidentId, (i) => {
        i.ticket_state = 'pending';
        addTimeline(i, { stage: 'ticket_pending', at: new Date().toISOString() });
      });
      await this.outbox.enqueue('ticket', incidentId, `ticket:${incidentId}`);
    }
    if (triaged) await this.chat.changed(triaged);
    return { source: result.source, note: result.note };
  }

  private async runTicket(incidentId: string, final: boolean): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    if (inc.ticket) return { key: inc.ticket.key, already: true };
    // Retried: Jira may be configured (again) through the admin API within the retry budget.
    if (!this.jira) throw new RetryableError('Jira is not configured');
    try {
      const ticket = await this.jira.ensureTicket(inc, inc.triage as unknown as TriageResult | undefined);
      const ticketed = await this.record(incidentId, (i) => {
        i.ticket = ticket;
        i.ticket_state = 'created';
        addTimeline(i, { stage: 'ticket_created', at: new Date().toISOString(), note: `${ticket.key}${ticket.found ? ' (found by its fingerprint label)' : ''}` });
      });
      if (ticketed) await this.chat.changed(ticketed);
      this.log.info({ incident: incidentId, ticket: ticket.key, found: ticket.found }, 'ticket recorded');
      return { key: ticket.key };
    } catch (err) {
      if (!(err instanceof RetryableError) || final) {
        await this.record(incidentId, (i) => {
          i.ticket_state = 'failed';
          addTimeline(i, { stage: 'ticket_failed', at: new Date().toISOString(), note: (err as Error).message.slice(0, 500) });
        });
      }
      throw err;
    }
  }

  private async runComment(incidentId: string): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    if (!inc.ticket || !this.jira) return { skipped: 'no ticket' };
    await this.jira.comment(inc.ticket.key, `StackLens: the incident recurred — ${inc.count} event(s) in total, last at ${inc.last_seen} (${inc.summary}).`);
    return { key: inc.ticket.key, count: inc.count };
  }

  private async runTransition(incidentId: string): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    const name = this.cfg.jira?.resolve_transition;
    if (!inc.ticket || !this.jira || !name) return { skipped: 'no ticket or no transition configured' };
    const done = await this.jira.transition(inc.ticket.key, name);
    return { key: inc.ticket.key, transition: name, applied: done };
  }

  private async load(id: string): Promise<Incident> {
    const found = await this.incidents.get(id);
    if (!found) throw new Error(`incident ${id} does not exist`);
    return found.incident;
  }

  private async record(id: string, change: (inc: Incident) => void): Promise<Incident | undefined> {
    return this.incidents.update(id, async (current) => {
      if (!current) return undefined;
      const next = structuredClone(current);
      change(next);
      next.updated_at = new Date().toISOString();
      return next;
    });
  }

  async stop(): Promise<void> {
    await this.outbox.stop();
  }
}
