// From incidents to external actions, through the outbox:
//   incident fires (opened, or reopened outside realert) and its rule notifies someone
//     → task triage:<incident>:<fire_count>  (timeline: triage_pending); again when it grows
//       past 10, 100, 1,000 … events
//   triage done (AI analysis, or runbook triage when no LLM / the LLM failed — saying which)
//     → incident.triage, timeline triage_completed | triage_failed
//     → task ticket:<incident> when the rule notifies jira  (timeline: ticket_pending)
//   ticket → the open ticket carrying the incident's fingerprint label, or a new one
//     → incident.ticket, timeline ticket_created | ticket_failed
//   recurrence → task comment:<incident>:<period> (at most one comment per comment_every)
//   resolved   → task transition:<incident>:<resolved_at>
//
// The collector queueing a task need not be the one that runs it: collectors are not all
// configured alike (a rolling change, a second site, a staging collector on the cluster).
// So what is queued follows the rule, not this collector's integrations, and each task says
// what it needs — ticket, comment, transition: jira; triage: an LLM (and Xero) when a
// collector running the rule has had one within the retry budget, else nothing; chat: the
// platform. Only a collector with those claims the task. A triage waiting for an LLM that
// no collector brings within the retry budget runs as runbook triage anywhere, saying so.
// Every task ends done, or failed with the reason on the incident's timeline.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import { addTimeline, type ElasticsearchIncidentStore, type Incident, type Outcome } from '@stacklens/detection';
import { CannotRunHere, Outbox, RetryableError, canRun, inScope, type Task } from '../outbox/outbox.js';
import { ruleKey } from '../outbox/registry.js';
import { Jira } from './jira.js';
import { Triage, type TriageResult } from './triage.js';
import { Xero } from './xero.js';
import type { CollectorMetrics } from '../metrics.js';
import { capabilitiesOf, type IntegrationConfigs } from './descriptors/index.js';
import type { ChatConfig } from '../config.js';
import { ChatAlerts, chatAlertsConfig, chatTaskPlace } from '../chat/alerts/alerts.js';
import { Mailer } from './email/mailer.js';
import { digestFacts, digestMail, incidentMail } from './email/mails.js';
import { periodLength, periodStart } from './email/digest-schedule.js';

/** LLM attempts per triage before it falls back to runbook triage (the ticket should not wait an hour for an analysis). */
export const LLM_ATTEMPTS = 3;
/** A collector that does not know comment_every queues comment tasks at most this often; the runner throttles. */
const COMMENT_BUCKET_MS = 60_000;

/** What a collector with these integrations can run (the outbox's capabilities): each descriptor's; slack:<team> for each Slack workspace it has a token for. */
export { capabilitiesOf };

type Peer = { capabilities: string[]; rules: string[] };

/**
 * What a triage needs: an LLM when this collector or a peer running the same rule has had one
 * (Xero too when one of those has both), else nothing — runbook triage is then the truth.
 */
export function triageNeeds(own: readonly string[], peers: Peer[], rule: string): string[] {
  const sets = [own, ...peers.filter((p) => p.rules.includes(rule)).map((p) => p.capabilities)].filter((c) => c.includes('llm'));
  if (sets.length === 0) return [];
  return sets.some((c) => c.includes('xero')) ? ['llm', 'xero'] : ['llm'];
}

export const notifiesJira = (inc: Pick<Incident, 'notify'>) => inc.notify.some((n) => n === 'jira' || n.startsWith('jira:'));
export const notifiesEmail = (inc: Pick<Incident, 'notify'>) => inc.notify.some((n) => n === 'email' || n.startsWith('email:'));
/** How often a collector checks whether a team's digest is due (the task id makes it one per period). */
const DIGEST_CHECK_MS = 30_000;
/** How often to look for incidents whose alert and triage were owed but never queued, and how long after firing one counts as such. */
const OWED_ACTIONS_CHECK_MS = 10_000;
const OWED_ACTIONS_GRACE_MS = 30_000;

const seconds = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);

export interface NotifierConfig extends IntegrationConfigs {
  chat: ChatConfig;
  retryBudgetMs: number;
}

export interface NotifierOptions {
  metrics?: CollectorMetrics;
  /** The rules this collector runs, as ruleKey(name, index): told to the peers in the heartbeat. */
  rules?: () => string[];
  /** Outbox overrides (tests). */
  outbox?: { index?: string; collectorId?: string; pollMs?: number };
}

export class Notifier {
  readonly outbox: Outbox;
  /** Chat alerts: their senders are built by the chat descriptors (chatAlertsConfig), not here. */
  readonly chat: ChatAlerts;
  private triage!: Triage;
  private jira?: Jira;
  private mailer?: Mailer;
  private digestTimer?: NodeJS.Timeout;
  private owedTimer?: NodeJS.Timeout;
  private sweeping = false;
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
      {
        retryBudgetMs: cfg.retryBudgetMs,
        concurrency: { triage: 4, ticket: 2, comment: 1, transition: 1, chat_post: 2, chat_update: 1, email: 2, digest: 1 },
        onResult: (action, result) => metrics?.outboxTasks.inc({ action, result }),
        onFailed: (task, reason) => this.recordFailure(task, reason),
        ...options.outbox,
      },
      log,
    );
    if (options.rules) this.outbox.registry.setRules(options.rules);
    this.chat = new ChatAlerts(this.outbox, incidents, log.child({ module: 'chat' }));
    this.configure(cfg);
    this.outbox.handle('triage', (task, attempt) => this.runTriage(task, attempt));
    this.outbox.handle('ticket', (task) => this.runTicket(task.incident_id));
    this.outbox.handle('comment', (task) => this.runComment(task));
    this.outbox.handle('transition', (task) => this.runTransition(task.incident_id));
    this.outbox.handle('email', (task) => this.counted('incident', () => this.runEmail(task.incident_id)));
    this.outbox.handle('digest', (task) => this.counted('digest', () => this.runDigest(task)));
  }

  /** (Re)build the clients: at start from collector.yaml, later when the admin API changes an integration. */
  configure(cfg: NotifierConfig): void {
    this.cfg = cfg;
    const observe = (service: string) => (result: string) => this.options.metrics?.externalCalls.inc({ service, result });
    this.triage = new Triage(this.es, cfg.openai, cfg.xero ? new Xero(cfg.xero) : undefined, observe('openai'));
    this.jira = cfg.jira ? new Jira(cfg.jira, observe('jira')) : undefined;
    this.mailer?.close();
    this.mailer = cfg.email ? new Mailer(cfg.email, observe('email')) : undefined;
    this.chat.configure(chatAlertsConfig(cfg, this.log, observe));
    this.outbox.setCapabilities(capabilitiesOf(cfg));
  }

  get config(): NotifierConfig {
    return this.cfg;
  }

  start(): void {
    this.outbox.start();
    void this.queueDigests();
    this.digestTimer = setInterval(() => void this.queueDigests(), DIGEST_CHECK_MS);
    this.digestTimer.unref();
    this.owedTimer = setInterval(() => void this.queueOwedActions(), OWED_ACTIONS_CHECK_MS);
    this.owedTimer.unref();
  }

  /**
   * The alert and triage of incidents that fired (actions_pending) at least OWED_ACTIONS_GRACE_MS
   * ago and were never queued: the firing write reached Elasticsearch but its answer did not (a
   * node died after replicating it, and the retry met the document: a conflict), or the collector
   * that wrote it died before queueing. Queueing again is harmless: task ids are deterministic.
   * Returns how many incidents it queued for.
   */
  async queueOwedActions(now = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let queued = 0;
    try {
      // Only incidents of rules this collector runs: it routes their alerts as the rule's collectors do.
      const mine = new Set(this.options.rules?.() ?? []);
      const names = [...new Set([...mine].map((key) => key.slice(0, key.lastIndexOf('@'))))];
      for (const inc of await this.incidents.actionsOwed(now - OWED_ACTIONS_GRACE_MS, names)) {
        if (!mine.has(ruleKey(inc.rule, inc.index))) continue;
        this.log.warn({ incident: inc.id, fire_count: inc.fire_count, last_fired_at: inc.last_fired_at }, "queueing the alert and triage of an incident that fired without them being queued (the write's answer was lost, or its collector stopped)");
        await this.onOutcome({ incident: inc, opened: false, fired: true });
        this.options.metrics?.owedActionsQueued.inc();
        queued++;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not look for incidents whose alert and triage are owed; the next check retries');
    } finally {
      this.sweeping = false;
    }
    return queued;
  }

  /**
   * Each team with an email_digest: the digest of the period that ended last, queued once —
   * its task id is the team and the period, so every collector and every restart queues the
   * same task and one mail goes out.
   */
  private async queueDigests(): Promise<void> {
    const now = Date.now();
    for (const [team, t] of Object.entries(this.cfg.chat.teams)) {
      if (!t.email_digest || !t.email?.length) continue;
      const to = periodStart(t.email_digest, now);
      const from = to - periodLength(t.email_digest);
      try {
        await this.outbox.enqueue('digest', `digest:${team}`, `digest:${team}:${new Date(to).toISOString()}`, { needs: ['email'], payload: { team, from, to } });
      } catch (err) {
        this.log.warn({ team, err: (err as Error).message }, 'could not queue the email digest; the next check retries');
      }
    }
  }

  /** The engine's hook for every incident opened or updated. */
  async onOutcome(o: Outcome): Promise<void> {
    const inc = o.incident;
    if (inc.notify.length === 0) return;
    if (o.fired) {
      const needs = await this.triageNeeds(inc);
      const waiting = await this.waitingNote(inc, needs);
      const pending = await this.record(inc.id, (i) => {
        // Once per firing (queueOwedActions may queue a firing's actions a second time).
        const told = i.timeline.some((t) => t.stage === 'triage_pending' && t.at >= (i.last_fired_at ?? ''));
        if (!told) addTimeline(i, { stage: 'triage_pending', at: new Date().toISOString(), ...(waiting ? { note: waiting } : {}) });
      });
      // The alert first: it is quick, and the thread then tells the triage and the ticket as they come.
      await this.chat.fired(pending ?? inc);
      await this.enqueueTriage(inc, `triage:${inc.id}:${inc.fire_count}`, needs);
      await this.actionsQueued(inc);
      return;
    }
    await this.chat.grew(inc);
    // Grown markedly — crossed 10, 100, 1,000 … events: triage again with the new picture.
    if (inc.count >= 10 && !inc.silenced_by) {
      await this.enqueueTriage(inc, `triage:${inc.id}:${inc.fire_count}:x${Math.floor(Math.log10(inc.count))}`);
    }
    if (inc.ticket && !inc.silenced_by) {
      // A recurrence: at most one comment per comment_every (the runner checks; the task id is
      // the period, so most recurrences queue nothing). Without Jira here the period is unknown:
      // queue by the minute for the collector that has it.
      const every = this.cfg.jira?.comment_every ?? COMMENT_BUCKET_MS;
      await this.enqueue('comment', inc, `comment:${inc.id}:${Math.floor(Date.now() / every)}`, { needs: ['jira'] });
    }
  }

  /** The firing's actions are queued: clear actions_pending, unless the incident fired again since. */
  private async actionsQueued(inc: Incident): Promise<void> {
    await this.incidents.update(inc.id, async (current) => {
      if (!current?.actions_pending || current.fire_count !== inc.fire_count) return undefined;
      const next = structuredClone(current);
      next.actions_pending = false;
      return next;
    });
  }

  /** Called when a person or the auto-resolver resolves an incident. */
  async onResolved(inc: Incident): Promise<void> {
    await this.chat.changed(inc);
    // Without Jira here, whether a transition is configured is for the collector that has Jira to say.
    if (inc.ticket && (!this.cfg.jira || this.cfg.jira.resolve_transition)) await this.enqueue('transition', inc, `transition:${inc.id}:${inc.resolved_at}`, { needs: ['jira'] });
  }

  /** A person acknowledged (or otherwise changed) the incident: tell the chat messages. */
  async onChanged(inc: Incident): Promise<void> {
    await this.chat.changed(inc);
  }

  /** POST /api/incidents/:id/ticket: a ticket now, whatever the rule's notify says — by whichever collector has Jira. */
  async requestTicket(inc: Incident, by = 'api'): Promise<string> {
    if (!this.jira) {
      const peers = await this.outbox.registry.list(this.cfg.retryBudgetMs);
      if (!peers.some((p) => p.capabilities.includes('jira'))) throw new Error('Jira is not configured (integrations.jira) on any collector');
    }
    const needs = ['jira'];
    const waiting = await this.waitingNote(inc, needs);
    await this.record(inc.id, (i) => {
      i.ticket_state = 'pending';
      const note = by === 'api' ? 'requested through the API' : 'requested from chat';
      addTimeline(i, { stage: 'ticket_pending', at: new Date().toISOString(), by, note: waiting ? `${note}; ${waiting}` : note });
    });
    const id = `ticket:${inc.id}`;
    await this.enqueue('ticket', inc, id, { needs });
    return id;
  }

  /** See triageNeeds: this collector's integrations and those of the peers running the rule lately. */
  private async triageNeeds(inc: Incident): Promise<string[]> {
    let peers: Peer[] = [];
    try {
      peers = await this.outbox.registry.list(this.cfg.retryBudgetMs);
    } catch (err) {
      this.log.warn({ incident: inc.id, err: (err as Error).message }, 'could not read which collectors run this rule; the triage needs what this collector has');
    }
    return triageNeeds(this.outbox.capabilities, peers, ruleKey(inc.rule, inc.index));
  }

  /** Queue a task of this incident: run by a collector that runs its rule (while one is running) and has what it needs. */
  enqueue(action: string, inc: Pick<Incident, 'id' | 'rule' | 'index'>, id: string, opts: { needs?: string[]; fallbackAfterMs?: number } = {}): Promise<boolean> {
    return this.outbox.enqueue(action, inc.id, id, { ...opts, rule: ruleKey(inc.rule, inc.index) });
  }

  private async enqueueTriage(inc: Incident, id: string, needs?: string[]): Promise<void> {
    const wants = needs ?? (await this.triageNeeds(inc));
    // Soft needs: an LLM no collector brings within the retry budget does not hold the ticket back for ever.
    await this.enqueue('triage', inc, id, { needs: wants, fallbackAfterMs: this.cfg.retryBudgetMs });
  }

  /**
   * "waiting for a collector with jira (none running)" when no running collector that may run
   * a task of this incident's rule has these needs.
   */
  private async waitingNote(inc: Pick<Incident, 'rule' | 'index'>, needs: string[]): Promise<string | undefined> {
    if (needs.length === 0) return undefined;
    try {
      const live = await this.outbox.registry.live();
      const liveRules = new Set(live.flatMap((c) => c.rules));
      const task = { rule: ruleKey(inc.rule, inc.index), needs };
      if (live.some((c) => inScope(task, new Set(c.rules), liveRules) && canRun(task, c.capabilities))) return undefined;
    } catch {
      return undefined;
    }
    return `waiting for a collector with ${needs.join(' + ')} (none running)`;
  }

  private async runTriage(task: Task, attempt: { final: boolean; missing: string[] }): Promise<Record<string, unknown>> {
    const incidentId = task.incident_id;
    const inc = await this.load(incidentId);
    let result: TriageResult;
    if (attempt.missing.includes('llm')) {
      // Claimed after fallback_after: the collectors with an LLM did not take it in time.
      result = await this.triage.runbook(inc, `no collector with an LLM ran this triage within ${seconds(this.cfg.retryBudgetMs)}: runbook and similar past incidents only`);
    } else {
      try {
        result = await this.triage.run(inc);
      } catch (err) {
        // Retried a few times (timeouts, 429, 5xx), then runbook triage saying why: the ticket
        // and the chat alert should not wait for the LLM.
        if (err instanceof RetryableError && !attempt.final && task.attempts < LLM_ATTEMPTS) throw err;
        const why = (err as Error).message;
        result = await this.triage.runbook(inc, `${why}${err instanceof RetryableError && task.attempts > 1 ? ` (${task.attempts} attempts)` : ''}; runbook and similar past incidents only`);
      }
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
    await this.queueTicket(incidentId);
    await this.queueEmail(incidentId);
    if (triaged) await this.chat.changed(triaged);
    return { source: result.source, note: result.note };
  }

  /** The rule notifies Jira and there is no ticket yet: queue it, for a collector with Jira (this one or another). */
  private async queueTicket(incidentId: string): Promise<void> {
    const inc = await this.load(incidentId);
    if (!notifiesJira(inc) || inc.ticket) return;
    const id = `ticket:${incidentId}`;
    if (await this.outbox.get(id)) return; // queued before (a re-triage, or a retry of this one)
    const needs = ['jira'];
    const waiting = await this.waitingNote(inc, needs);
    // Recorded first: the task may run (and record ticket_created) as soon as it is queued.
    await this.record(incidentId, (i) => {
      i.ticket_state = 'pending';
      addTimeline(i, { stage: 'ticket_pending', at: new Date().toISOString(), ...(waiting ? { note: waiting } : {}) });
    });
    await this.enqueue('ticket', inc, id, { needs });
  }

  /** stacklens_emails_total: how a mail of this kind ended (CannotRunHere is no attempt). */
  private async counted(kind: 'incident' | 'digest', send: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    try {
      const result = await send();
      if (!('skipped' in result)) this.options.metrics?.emails.inc({ kind, result: 'sent' });
      return result;
    } catch (err) {
      if (!(err instanceof CannotRunHere)) this.options.metrics?.emails.inc({ kind, result: err instanceof RetryableError ? 'retry' : 'failed' });
      throw err;
    }
  }

  /** The rule notifies email: one mail for the incident (after its triage, with the analysis), by a collector with email. */
  private async queueEmail(incidentId: string): Promise<void> {
    const inc = await this.load(incidentId);
    if (!notifiesEmail(inc)) return;
    const id = `email:${incidentId}`;
    if (await this.outbox.get(id)) return;
    const needs = ['email'];
    const waiting = await this.waitingNote(inc, needs);
    await this.record(incidentId, (i) => addTimeline(i, { stage: 'email_pending', at: new Date().toISOString(), ...(waiting ? { note: waiting } : {}) }));
    await this.enqueue('email', inc, id, { needs });
  }

  /** Who an incident's mail goes to: `email:<address>` targets, and for a plain `email` the team's addresses (else integrations.email.to). */
  private recipients(inc: Incident): string[] {
    const to = new Set<string>();
    for (const n of inc.notify) {
      if (n.startsWith('email:')) to.add(n.slice(6));
      else if (n === 'email') for (const a of this.cfg.chat.teams[inc.labels?.team ?? '']?.email ?? this.cfg.email?.to ?? []) to.add(a);
    }
    return [...to];
  }

  private async runEmail(incidentId: string): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    if (!this.mailer || !this.cfg.email) throw new CannotRunHere(['email'], 'e-mail is not configured on this collector');
    const all = this.recipients(inc);
    if (all.length === 0) throw new Error(`no recipients: the rule says notify: [email] but neither chat.teams.${inc.labels?.team ?? '<team>'}.email nor integrations.email.to names any`);
    // A retry mails only those who did not get it yet (a recipient the server put off with a 4xx).
    const delivered = new Set<string>((inc as Incident & { email_delivered?: string[] }).email_delivered ?? []);
    const to = all.filter((a) => !delivered.has(a));
    if (to.length === 0) return { already: [...delivered] };
    const sent = await this.mailer.send(incidentMail(inc, inc.triage as unknown as TriageResult | undefined, this.cfg.email, to));
    const later = sent.refused.filter((r) => r.code < 500);
    const never = sent.refused.filter((r) => r.code >= 500);
    await this.record(incidentId, (i) => {
      const done = [...new Set([...((i as Incident & { email_delivered?: string[] }).email_delivered ?? []), ...sent.accepted])];
      (i as Incident & { email_delivered?: string[] }).email_delivered = done;
      if (later.length === 0) addTimeline(i, { stage: 'email_sent', at: new Date().toISOString(), note: `to ${done.join(', ')}${never.length ? `; refused by the server: ${never.map((r) => r.address).join(', ')}` : ''}` });
    });
    if (later.length) throw new RetryableError(`SMTP ${later[0].code} for ${later.map((r) => r.address).join(', ')} (${later[0].reply}); sent to ${sent.accepted.join(', ') || 'nobody yet'}`);
    return { to: sent.accepted, refused: never.map((r) => r.address) };
  }

  private async runDigest(task: Task): Promise<Record<string, unknown>> {
    const { team, from, to } = (task.payload ?? {}) as { team?: string; from?: number; to?: number };
    if (!team || typeof from !== 'number' || typeof to !== 'number') return { skipped: 'not a digest task' };
    if (!this.mailer || !this.cfg.email) throw new CannotRunHere(['email'], 'e-mail is not configured on this collector');
    const recipients = this.cfg.chat.teams[team]?.email ?? [];
    if (recipients.length === 0) return { skipped: `chat.teams.${team}.email names nobody here` };
    const facts = await digestFacts(this.es, team, from, to);
    const sent = await this.mailer.send(digestMail(facts, recipients));
    this.log.info({ team, from: facts.from, to: facts.to }, 'email digest sent');
    return { to: sent.accepted, opened: facts.opened, resolved: facts.resolved };
  }

  private async runTicket(incidentId: string): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    if (inc.ticket) return { key: inc.ticket.key, already: true };
    if (!this.jira) throw new CannotRunHere(['jira'], 'Jira is not configured on this collector');
    const ticket = await this.jira.ensureTicket(inc, inc.triage as unknown as TriageResult | undefined);
    const ticketed = await this.record(incidentId, (i) => {
      i.ticket = ticket;
      i.ticket_state = 'created';
      addTimeline(i, { stage: 'ticket_created', at: new Date().toISOString(), note: `${ticket.key}${ticket.found ? ' (found by its fingerprint label)' : ''}` });
    });
    if (ticketed) await this.chat.changed(ticketed);
    this.log.info({ incident: incidentId, ticket: ticket.key, found: ticket.found }, 'ticket recorded');
    return { key: ticket.key };
  }

  private async runComment(task: Task): Promise<Record<string, unknown>> {
    const inc = await this.load(task.incident_id);
    if (!inc.ticket) return { skipped: 'no ticket' };
    if (!this.jira || !this.cfg.jira) throw new CannotRunHere(['jira'], 'Jira is not configured on this collector');
    const every = this.cfg.jira.comment_every;
    const ticket = inc.ticket as typeof inc.ticket & { commented_at?: string; comment_task?: string };
    // At most one comment per comment_every, whoever queued the task: the slot is taken on the
    // incident (optimistic concurrency) before commenting; a retry of the same task keeps it.
    if (ticket.comment_task !== task.id && ticket.commented_at && Date.now() - Date.parse(ticket.commented_at) < every) {
      return { skipped: `commented ${seconds(Date.now() - Date.parse(ticket.commented_at))} ago (comment_every ${seconds(every)})` };
    }
    let taken = false;
    await this.incidents.update(inc.id, async (current) => {
      taken = false;
      const t = current?.ticket as (typeof ticket | undefined);
      if (!current || !t) return undefined;
      if (t.comment_task !== task.id && t.commented_at && Date.now() - Date.parse(t.commented_at) < every) return undefined;
      taken = true;
      if (t.comment_task === task.id) return undefined;
      const next = structuredClone(current);
      Object.assign(next.ticket!, { commented_at: new Date().toISOString(), comment_task: task.id });
      return next;
    });
    if (!taken) return { skipped: 'another recurrence commented meanwhile' };
    await this.jira.comment(inc.ticket.key, `StackLens: the incident recurred — ${inc.count} event(s) in total, last at ${inc.last_seen} (${inc.summary}).`);
    await this.record(inc.id, (i) => addTimeline(i, { stage: 'ticket_commented', at: new Date().toISOString(), note: `${inc.ticket!.key}: ${inc.count} event(s)` }));
    return { key: inc.ticket.key, count: inc.count };
  }

  private async runTransition(incidentId: string): Promise<Record<string, unknown>> {
    const inc = await this.load(incidentId);
    if (!inc.ticket) return { skipped: 'no ticket' };
    if (!this.jira || !this.cfg.jira) throw new CannotRunHere(['jira'], 'Jira is not configured on this collector');
    const name = this.cfg.jira.resolve_transition;
    if (!name) return { skipped: 'no resolve_transition configured' };
    const done = await this.jira.transition(inc.ticket.key, name);
    await this.record(incidentId, (i) => addTimeline(i, { stage: 'ticket_transitioned', at: new Date().toISOString(), note: done ? `${inc.ticket!.key} → ${name}` : `${inc.ticket!.key} has no transition "${name}" now` }));
    return { key: inc.ticket.key, transition: name, applied: done };
  }

  /** A task failed for good: the incident's timeline says which and why (and a failed triage still queues the ticket). */
  private async recordFailure(task: Task, reason: string): Promise<void> {
    const at = new Date().toISOString();
    const note = reason.slice(0, 500);
    switch (task.action) {
      case 'ticket': {
        const inc = await this.record(task.incident_id, (i) => {
          i.ticket_state = 'failed';
          addTimeline(i, { stage: 'ticket_failed', at, note });
        });
        if (inc) await this.chat.changed(inc);
        return;
      }
      case 'triage': {
        const inc = await this.record(task.incident_id, (i) => addTimeline(i, { stage: 'triage_failed', at, note }));
        await this.queueTicket(task.incident_id);
        await this.queueEmail(task.incident_id);
        if (inc) await this.chat.changed(inc);
        return;
      }
      case 'comment':
      case 'transition':
        await this.record(task.incident_id, (i) => addTimeline(i, { stage: `ticket_${task.action}_failed`, at, note }));
        return;
      default: {
        // Chat: no chat update follows (it could fail the same way): the timeline and the API tell.
        const prefix = task.action === 'chat_post' || task.action === 'chat_update' ? chatTaskPlace(task) : '';
        await this.record(task.incident_id, (i) => addTimeline(i, { stage: `${task.action}_failed`, at, note: prefix ? `${prefix}: ${note}` : note }));
      }
    }
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
    clearInterval(this.digestTimer);
    clearInterval(this.owedTimer);
    await this.outbox.stop();
    this.mailer?.close();
  }
}
