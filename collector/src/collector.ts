// The collector, composed in one place:
//   Elasticsearch client → templates → indexer (agents' batches) → rule engine → incidents
//   → notifier (outbox: triage, Jira, chat alerts) ; chat endpoints and Mattermost capture
//   → chat store ; integrations (collector.yaml, overridden by the admin API) ; HTTP API.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Client } from '@elastic/elasticsearch';
import { installTemplates } from '@stacklens/elasticsearch';
import { Backoff, createLogger, sleep, type Logger } from '@stacklens/common';
import { EsTemplateStore, RuleEngine, TemplateCatalog, type Outcome } from '@stacklens/detection';
import type { CollectorConfig } from './config.js';
import { createEsClient } from './es-client.js';
import { ElasticsearchHealthProbe, CLUSTER_STATUSES } from './es-health.js';
import { Indexer } from './indexer.js';
import { createServer, upgradeThroughApp, type Readiness } from './server.js';
import { TailHub } from './tail/tail-hub.js';
import { SlackInstallations } from './chat/install/slack-installations.js';
import { createSlackInstallRoutes, handleUninstall } from './chat/install/slack-install.js';
import { SlackReplayGuard } from './chat/ops/replay-guard.js';
import { Notifier } from './integrations/notifier.js';
import { ruleKey } from './outbox/registry.js';
import { SECRET_KEY_ENV, SecretBox } from './admin/secret-box.js';
import { IntegrationStore } from './admin/integrations.js';
import type { IntegrationsApiDeps } from './admin/integrations-api.js';
import { CollectorMetrics, OUTBOX_ACTIONS } from './metrics.js';
import { ChatStore } from './chat/capture/chat-store.js';
import { SlackEvents } from './chat/capture/slack-events.js';
import { ChatOps } from './chat/ops/chatops.js';
import { createChatRoutes } from './chat/ops/routes.js';
import { MattermostCapture } from './chat/capture/mattermost-capture.js';
import { IntegrationSettings } from './integrations/integration-settings.js';
import { testIntegration } from './admin/connection-tests.js';
import { SlackSender } from './chat/alerts/slack.js';
import { MattermostSender, mattermostSigner } from './chat/alerts/mattermost.js';
import type { WebClient } from '@slack/web-api';
import type { Router } from 'express';
import { AuditLog } from './security/audit.js';
import { Gate } from './security/gate.js';
import { agentPrincipals, apiPrincipals } from './security/principals.js';

export class Collector {
  readonly log: Logger;
  readonly client: Client;
  private readonly esHealth: ElasticsearchHealthProbe;
  readonly indexer: Indexer;
  readonly engine?: RuleEngine;
  readonly notifier?: Notifier;
  readonly metrics = new CollectorMetrics();
  readonly chatStore: ChatStore;
  readonly audit: AuditLog;
  readonly gate: Gate;
  /** Message templates mined from events, shared with other collectors through stacklens-templates. */
  readonly messageTemplates: TemplateCatalog;
  readonly templateStore: EsTemplateStore;
  private templatesTimer?: NodeJS.Timeout;
  private mattermostCapture?: MattermostCapture;
  private integrationSettings?: IntegrationSettings;
  private chatRoutes?: Router;
  /** ChatOps, and what a team scope may read (the API's team-scoped tokens use it too). */
  private chatOps?: ChatOps;
  private integrations?: IntegrationsApiDeps;
  private integrationsTimer?: NodeJS.Timeout;
  private server?: Server;
  private templatesReady = false;
  private stopping = false;
  private tail?: TailHub;
  private slackInstallations: SlackInstallations | string = 'detection is disabled';

  constructor(
    private readonly config: CollectorConfig,
    log?: Logger,
  ) {
    this.log = log ?? createLogger('collector');
    this.client = createEsClient(config.elasticsearch);
    this.esHealth = new ElasticsearchHealthProbe(this.client, this.log);
    this.indexer = new Indexer(this.client, config.bulk.retry_budget, this.log);
    this.chatStore = new ChatStore(this.client);
    this.templateStore = new EsTemplateStore(this.client);
    this.messageTemplates = config.message_templates.enabled ? new TemplateCatalog(this.templateStore, { maxTemplatesPerDataset: config.message_templates.max_per_dataset }) : TemplateCatalog.disabled();
    this.audit = new AuditLog(this.client, this.log.child({ module: 'audit' }));
    this.gate = new Gate({ api: apiPrincipals(config.api), agents: agentPrincipals(config.agent_tokens), limits: config.rate_limits, audit: this.audit });
    this.registerPipelineMetrics();
    if (config.detection.enabled) {
      const engine = new RuleEngine(this.client, { rulesDir: config.rules_dir, tickMs: config.detection.tick, scheduleMs: config.detection.schedule, metrics: this.metrics }, this.log.child({ module: 'detection' }));
      const tail = new TailHub({
        es: this.client,
        log: this.log.child({ module: 'tail' }),
        metrics: { clients: (n) => this.metrics.tailClients.set(n), dropped: (n) => this.metrics.tailDropped.inc(n), sent: (kind, n) => this.metrics.tailSent.inc({ kind }, n) },
        scope: async (teams) => ({ filter: await this.chatOps!.scope(teams), datasets: teams.flatMap((t) => config.chat.teams[t]?.datasets ?? []) }),
      });
      this.indexer.onIndexed = (docs) => {
        engine.observe(docs);
        tail.publish(docs);
      };
      this.tail = tail;
      this.engine = engine;
      const box = SecretBox.fromEnv();
      const store = typeof box === 'string' ? box : new IntegrationStore(this.client, box);
      // Said at start: integrations stored through the admin API are not applied without the key.
      if (typeof box === 'string') this.log.warn(`integrations stored through /api/admin/integrations are not applied (collector.yaml's are) and none can be stored: ${box}`);
      const capture = new MattermostCapture(this.chatStore, this.client, this.log.child({ module: 'mattermost-ingest' }));
      this.slackInstallations = typeof box === 'string' ? `no ${SECRET_KEY_ENV} to seal their bot tokens with` : new SlackInstallations(this.client, box);
      const installations = this.slackInstallations;
      const settings = new IntegrationSettings(
        config,
        store,
        this.log,
        (cfg) => {
          notifier.configure(cfg);
          capture.follow(cfg.mattermost);
        },
        typeof installations === 'string' ? undefined : () => installations.tokens(),
      );
      const notifier = new Notifier(this.client, engine.incidents, settings.fromFile(), this.log.child({ module: 'notify' }), { metrics: this.metrics, rules: () => engine.rules.map((r) => ruleKey(r.spec.name, r.index)) });
      this.mattermostCapture = capture;
      this.integrationSettings = settings;
      engine.onOutcome = (o) => void this.queueActions(notifier, o);
      engine.onAutoResolved = (inc) => void notifier.onResolved(inc).catch((err) => this.log.warn({ incident: inc.id, err: (err as Error).message }, 'could not queue the ticket transition'));
      this.notifier = notifier;
      this.registerDetectionMetrics(engine, notifier);
      this.chatRoutes = this.composeChat(engine, notifier);
      this.integrations = {
        store,
        test: (type, values) => testIntegration(type, values),
        changed: () => settings.refresh(),
      };
    }
  }

  private registerPipelineMetrics(): void {
    const stats = this.indexer.stats;
    this.metrics.gauge('stacklens_elasticsearch_cluster_health', 'Elasticsearch cluster health as this collector sees it: 1 for the current status (green, yellow, red, unreachable), 0 for the others.', ['status'], async (set) => {
      const now = (await this.esHealth.read()).status;
      for (const status of CLUSTER_STATUSES) set({ status }, status === now ? 1 : 0);
    });
    this.metrics.total('stacklens_metrics_read_failures_total', 'Gauges whose read failed at a scrape (an Elasticsearch query during a node loss): left out of that scrape instead of failing it.', () => this.metrics.gaugeReadFailures);
    this.metrics.gauge('stacklens_elasticsearch_connections', 'Configured Elasticsearch URLs (elasticsearch.urls) the client uses now (alive) or has marked dead until a ping answers.', ['state'], (set) => {
      const health = this.esHealth.connectionsNow();
      set({ state: 'alive' }, health.alive);
      set({ state: 'dead' }, health.dead);
    });
    this.metrics.gauge('stacklens_message_templates', 'Message templates this collector knows (learned here or read from stacklens-templates).', [], (set) => set({}, this.messageTemplates.size()));
    this.metrics.total('stacklens_message_templates_overflowed_total', 'Events given an unlearned template id because their dataset reached message_templates.max_per_dataset.', () => this.messageTemplates.overflowed);
    this.metrics.total('stacklens_collector_events_received_total', 'Events received from agents in batches taken for indexing.', () => stats.received);
    this.metrics.total('stacklens_collector_events_indexed_total', 'Events Elasticsearch accepted for the first time.', () => stats.indexed);
    this.metrics.total('stacklens_collector_events_duplicate_total', 'Events Elasticsearch already had (a retried batch; counted as success).', () => stats.duplicates);
    this.metrics.total('stacklens_collector_events_dead_lettered_total', 'Events sent to the dead-letter stream (unparsed, invalid or refused by the mapping).', () => stats.deadLettered);
    this.metrics.total('stacklens_collector_redelivered_batches_total', 'Batches an agent marked as possibly delivered before (retry, restart), checked across every backing index of their data streams.', () => stats.redeliveryChecks);
    this.metrics.total('stacklens_collector_redelivered_found_total', 'Events of redelivered batches already in some backing index (e.g. before a rollover): not created again, counted as duplicates.', () => stats.redeliveryFound);
    this.metrics.total('stacklens_collector_bulk_requests_total', 'Bulk requests sent to Elasticsearch.', () => stats.bulkRequests);
    this.metrics.total('stacklens_collector_bulk_retries_total', 'Bulk rounds retried after 429/5xx items or transport errors.', () => stats.bulkRetries);
    this.metrics.gauge('stacklens_collector_ingest_requests_in_flight', 'Agent batches being indexed now (the ingest queue depth).', [], (set) => set({}, stats.inFlight));
    this.indexer.onBulk = (seconds) => this.metrics.bulkSeconds.observe(seconds);
    this.metrics.total('stacklens_chat_messages_indexed_total', 'Chat messages (Slack, Mattermost) indexed into logs-chat-default for the first time.', () => this.chatStore.stats.messages);
    this.metrics.total('stacklens_chat_messages_duplicate_total', 'Chat messages delivered again (Slack retries, Mattermost catch-up) and not stored twice.', () => this.chatStore.stats.duplicates);
  }

  private registerDetectionMetrics(engine: RuleEngine, notifier: Notifier): void {
    this.metrics.gauge('stacklens_outbox_tasks', 'Outbox tasks by action and status (pending and running are the depth).', ['action', 'status'], async (set) => {
      // Every action and status reported, 0 included: "nothing waiting" is a value, not a gap.
      for (const action of OUTBOX_ACTIONS) for (const status of ['pending', 'running', 'done', 'failed']) set({ action, status }, 0);
      for (const d of await notifier.outbox.depth()) set({ action: d.action, status: d.status }, d.count);
    });
    this.metrics.gauge('stacklens_outbox_unclaimable_tasks', 'Pending outbox tasks no running collector can run: what they need (llm, jira, slack, mattermost) is configured on none of them. They wait (never done) until one that has it runs.', ['action'], async (set) => {
      for (const action of OUTBOX_ACTIONS) set({ action }, 0);
      for (const [action, count] of await notifier.outbox.unclaimable()) set({ action }, count);
    });
    this.metrics.gauge('stacklens_outbox_oldest_pending_seconds', 'By action: how long the oldest due pending outbox task has waited for a collector to claim it (0: none waiting).', ['action'], async (set) => {
      for (const action of OUTBOX_ACTIONS) set({ action }, 0);
      for (const [action, s] of await notifier.outbox.oldestDue()) set({ action }, s);
    });
    this.metrics.gauge('stacklens_rules_loaded', 'Rules loaded, and rule files that failed to load.', ['state'], (set) => {
      set({ state: 'loaded' }, engine.rules.length);
      set({ state: 'failed' }, engine.loadErrors.length);
    });
  }

  /** The Slack and Mattermost endpoints; they read the notifier's current chat settings on every request. */
  private composeChat(engine: RuleEngine, notifier: Notifier): Router {
    const chatLog = this.log.child({ module: 'chat' });
    const slackEvents = new SlackEvents(this.chatStore, (team) => this.slackClient(team), chatLog);
    // Workspace and channel ids come from the current bot senders (rebuilt when integrations change).
    const platforms = () => ({ slack: this.slackBot(notifier), mattermost: notifier.chat.senderOf('mattermost', MattermostSender), mattermostTeam: notifier.config.mattermost?.team });
    this.chatOps = new ChatOps({ es: this.client, engine, notifier, metrics: this.metrics, chat: () => notifier.config.chat, platforms, audit: this.audit, log: chatLog });
    const changed = () => this.integrationSettings!.refresh();
    const installations = this.slackInstallations;
    const routes = createChatRoutes({
      ops: this.chatOps,
      log: chatLog,
      uninstall: (envelope) =>
        handleUninstall(envelope, installations, changed, (team, action) => this.audit.record({ action, category: 'integration', outcome: 'success', target: team, via: 'slack' })),
      answerWithinMs: () => this.config.chat.answer_within,
      // Slack replay protection shared through Elasticsearch by every collector.
      es: this.client,
      audit: this.audit,
      slack: () => {
        const s = notifier.config.slack;
        return s && { signingSecret: s.signing_secret, events: slackEvents, indexMessages: s.index_messages };
      },
      mattermost: () => {
        const m = notifier.config.mattermost;
        return m && { commandToken: m.command_token, signer: mattermostSigner(m) };
      },
    });
    routes.use(
      createSlackInstallRoutes({
        slack: () => notifier.config.slack,
        installations,
        replay: new SlackReplayGuard(this.client, chatLog),
        changed,
        audit: this.audit,
        log: chatLog,
      }),
    );
    return routes;
  }

  /** Listen now; install templates in the background until Elasticsearch answers (see /readyz). */
  async start(): Promise<{ host: string; port: number }> {
    const app = createServer({
      gate: this.gate,
      maxBodyBytes: this.config.max_body_bytes,
      ingest: this.config.ingest,
      indexer: this.indexer,
      readiness: () => this.readiness(),
      templatesReady: () => this.templatesReady,
      messageTemplates: this.messageTemplates,
      templateStore: this.templateStore,
      log: this.log,
      engine: this.engine,
      notifier: this.notifier,
      metrics: this.metrics,
      integrations: this.integrations,
      chatRoutes: this.chatRoutes,
      es: this.client,
      teamScope: (teams) => this.chatOps!.scope(teams),
      tail: this.tail,
      exportIdleMs: this.config.api.export_idle_timeout,
    });
    const { host, port } = this.config.listen;
    const tls = this.config.tls;
    // HTTPS when configured; with client_ca, agents must present a certificate it signed (mutual TLS).
    const server: Server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: Boolean(tls.clientCa), rejectUnauthorized: Boolean(tls.clientCa) }, app)
      : createHttpServer(app);
    this.server = await new Promise<Server>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
    this.server.keepAliveTimeout = 65_000;
    this.server.on('upgrade', upgradeThroughApp(app));
    const address = this.server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    this.log.info({ listen: `${tls ? 'https' : 'http'}://${host}:${bound}`, mutual_tls: Boolean(tls?.clientCa), elasticsearch: this.config.elasticsearch.nodes }, 'collector listening');
    void this.installTemplatesUntilDone();
    return { host, port: bound };
  }

  private async installTemplatesUntilDone(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const installed = await installTemplates(this.client, { replicas: this.config.elasticsearch.replicas });
        // Before the first event: a message another collector mined keeps its template id here.
        await this.messageTemplates.load();
        this.templatesTimer = setInterval(() => void this.syncMessageTemplates(), 5_000);
        this.templatesReady = true;
        this.log.info({ templates: installed.length }, 'Elasticsearch templates installed');
        this.engine?.start();
        this.notifier?.start();
        void this.integrationSettings?.refresh();
        this.integrationsTimer = setInterval(() => void this.integrationSettings?.refresh(), 10_000);
        return;
      } catch (err) {
        if (attempt % 10 === 0) this.log.warn({ err: (err as Error).message }, 'cannot install templates yet; retrying');
        await sleep(1000);
      }
    }
  }

  /** Write this collector's template counts, read the others' new templates. */
  private async syncMessageTemplates(): Promise<void> {
    try {
      await this.messageTemplates.flush();
      await this.messageTemplates.refresh();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'message templates not synchronized with Elasticsearch yet; retrying');
    }
  }

  /** Queue an incident's external actions, retrying while Elasticsearch does not take them (task ids make retries harmless). */
  private async queueActions(notifier: Notifier, o: Outcome): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await notifier.onOutcome(o);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) this.log.warn({ incident: o.incident.id, attempt, err: (err as Error).message }, 'could not queue the incident\'s actions yet; retrying');
        await sleep(backoff.next());
      }
    }
  }

  /** The Slack bot sender (Web API), when Slack is configured with a bot token. */
  private slackBot(notifier: Notifier): SlackSender | undefined {
    return notifier.chat.senderOf('slack', SlackSender);
  }

  private slackClient(team: string): WebClient | undefined {
    try {
      return this.notifier && this.slackBot(this.notifier)?.client(team);
    } catch {
      return undefined;
    }
  }

  /** Ready (200), degraded (200: writes land, but a node or a replica is missing), or not ready (503). */
  private async readiness(): Promise<Readiness> {
    if (!this.templatesReady) return { status: 'not ready', reason: 'index templates not installed yet (is Elasticsearch reachable?)' };
    const elasticsearch = await this.esHealth.read();
    if (elasticsearch.status === 'unreachable') return { status: 'not ready', reason: `Elasticsearch unreachable: ${elasticsearch.error}`, elasticsearch };
    const problems = [
      ...(elasticsearch.status === 'green' ? [] : [`cluster health ${elasticsearch.status} (${elasticsearch.unassigned_shards} unassigned shards)`]),
      ...(elasticsearch.connections.dead ? [`${elasticsearch.connections.dead} of ${elasticsearch.connections.alive + elasticsearch.connections.dead} Elasticsearch nodes set aside after failed requests (their addresses are in the collector's log)`] : []),
    ];
    return problems.length ? { status: 'degraded', reason: problems.join('; '), elasticsearch } : { status: 'ready', elasticsearch };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.integrationsTimer);
    clearInterval(this.templatesTimer);
    this.mattermostCapture?.stop();
    this.tail?.stop();
    await this.engine?.stop();
    await this.notifier?.stop();
    await this.audit.stop();
    if (this.templatesReady) await this.syncMessageTemplates();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
    await this.client.close();
    this.log.info(this.indexer.stats, 'collector stopped');
  }
}
