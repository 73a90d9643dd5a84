// The collector's /metrics (prom-client, Prometheus naming: base units, _total counters,
// bounded labels — rule names, severities, actions; never ids or messages). Pipeline totals
// are read from the components' own counters at scrape time; the rest is recorded as it
// happens.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerProcessMetrics } from '@stacklens/common';
import { SEVERITIES } from '@stacklens/detection';
import { METRIC_SERVICES } from './integrations/descriptors/index.js';

/** Every outbox action, for series that start at 0. */
export const OUTBOX_ACTIONS = ['triage', 'ticket', 'comment', 'transition', 'chat_post', 'chat_update', 'email', 'digest'];

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly ruleEvaluations = new Counter({ name: 'stacklens_rule_evaluations_total', help: 'Rule evaluations, by rule and trigger (event or schedule).', labelNames: ['rule', 'trigger'], registers: [this.registry] });
  readonly ruleEvaluationErrors = new Counter({ name: 'stacklens_rule_evaluation_errors_total', help: 'Rule evaluations that failed (retried by the next run).', labelNames: ['rule'], registers: [this.registry] });
  readonly ruleMatches = new Counter({ name: 'stacklens_rule_matches_total', help: 'Matches that changed an incident, by rule.', labelNames: ['rule'], registers: [this.registry] });
  readonly ruleEvaluationSeconds = new Histogram({ name: 'stacklens_rule_evaluation_duration_seconds', help: 'Time to evaluate one rule (queries and incident writes).', labelNames: ['trigger'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly incidentsOpened = new Counter({ name: 'stacklens_incidents_opened_total', help: 'Incidents opened, by severity.', labelNames: ['severity'], registers: [this.registry] });
  readonly incidentsResolved = new Counter({ name: 'stacklens_incidents_resolved_total', help: 'Incidents resolved, by severity and by whom (person or auto).', labelNames: ['severity', 'by'], registers: [this.registry] });
  readonly owedActionsQueued = new Counter({ name: 'stacklens_incident_owed_actions_queued_total', help: 'Incidents whose alert and triage were queued late, found owed (actions_pending) 30 s after firing: the firing write\'s answer was lost or its collector stopped before queueing.', registers: [this.registry] });
  readonly outboxTasks = new Counter({ name: 'stacklens_outbox_tasks_total', help: 'Outbox task attempts finished, by action and result (done, retry, failed).', labelNames: ['action', 'result'], registers: [this.registry] });
  readonly triageSeconds = new Histogram({ name: 'stacklens_triage_duration_seconds', help: 'LLM call latency for triage.', buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30], registers: [this.registry] });
  readonly triageTokens = new Counter({ name: 'stacklens_triage_tokens_total', help: 'LLM tokens used by triage, by kind (prompt, completion).', labelNames: ['kind'], registers: [this.registry] });
  readonly triages = new Counter({ name: 'stacklens_triage_total', help: 'Triages, by source (llm, runbook) and result (completed, failed).', labelNames: ['source', 'result'], registers: [this.registry] });
  readonly externalCalls = new Counter({ name: 'stacklens_external_requests_total', help: 'Requests to external services, by service (each integration type) and result (ok, rate_limited, unreachable, http_<status>, or the platform\'s error code).', labelNames: ['service', 'result'], registers: [this.registry] });
  readonly exports = new Counter({ name: 'stacklens_search_exports_total', help: 'Search exports (GET /api/search/export), by format and result (complete, failed, client_gone, refused).', labelNames: ['format', 'result'], registers: [this.registry] });
  readonly exportRows = new Counter({ name: 'stacklens_search_export_rows_total', help: 'Rows written by search exports, by format.', labelNames: ['format'], registers: [this.registry] });
  readonly emails = new Counter({ name: 'stacklens_emails_total', help: 'Mails StackLens tried to send, by kind (incident, digest) and result (sent, retry: a temporary SMTP failure, failed: refused for good).', labelNames: ['kind', 'result'], registers: [this.registry] });
  readonly tailClients = new Gauge({ name: 'stacklens_tail_clients', help: 'Live-tail WebSocket clients connected to this collector (GET /api/tail).', registers: [this.registry] });
  readonly tailDropped = new Counter({ name: 'stacklens_tail_dropped_total', help: 'Live-tail messages not sent to a client that was too slow to take them (it is told how many).', registers: [this.registry] });
  readonly tailSent = new Counter({ name: 'stacklens_tail_messages_total', help: 'Live-tail messages sent, by kind (event, incident).', labelNames: ['kind'], registers: [this.registry] });
  readonly ingestRequestsRefused = new Counter({ name: 'stacklens_collector_ingest_requests_refused_total', help: 'Ingest requests refused as a whole, by the limit they broke (max_body_bytes, max_events_per_request), invalid_body (not {"agent", "events"}) or agent_id (the token may not send as that agent).', labelNames: ['limit'], registers: [this.registry] });
  readonly eventsInvalid = new Counter({ name: 'stacklens_collector_events_invalid_total', help: 'Events the collector refused before Elasticsearch saw them, by error type (invalid_event, invalid_json, event_too_large, event_too_deep, dataset_not_allowed, max_data_streams); each is dead-lettered, one by one or in its request\'s summary.', labelNames: ['type'], registers: [this.registry] });
  readonly deadLettersSummarized = new Counter({ name: 'stacklens_collector_dead_letters_summarized_total', help: 'Invalid events over ingest.max_dead_letters_per_request: counted in their request\'s summary dead letter instead of kept one by one.', registers: [this.registry] });
  readonly bulkSeconds = new Histogram({ name: 'stacklens_collector_bulk_duration_seconds', help: 'Time of one Elasticsearch _bulk request.', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });

  constructor() {
    registerProcessMetrics(this.registry);
    // Series exist from the start at 0 (Prometheus practice): rate() and alerts see "none yet", not "no data".
    for (const severity of SEVERITIES) {
      this.incidentsOpened.inc({ severity }, 0);
      for (const by of ['person', 'auto']) this.incidentsResolved.inc({ severity, by }, 0);
    }
    for (const action of OUTBOX_ACTIONS) {
      for (const result of ['done', 'retry', 'failed']) this.outboxTasks.inc({ action, result }, 0);
    }
    for (const source of ['llm', 'runbook']) for (const result of ['completed', 'failed']) this.triages.inc({ source, result }, 0);
    for (const service of METRIC_SERVICES) this.externalCalls.inc({ service, result: 'ok' }, 0);
    for (const kind of ['event', 'incident']) this.tailSent.inc({ kind }, 0);
    for (const kind of ['incident', 'digest']) for (const result of ['sent', 'retry', 'failed']) this.emails.inc({ kind, result }, 0);
    for (const format of ['csv', 'ndjson']) for (const result of ['complete', 'failed', 'client_gone', 'refused']) this.exports.inc({ format, result }, 0);
    for (const limit of ['max_body_bytes', 'max_events_per_request', 'invalid_body', 'agent_id']) this.ingestRequestsRefused.inc({ limit }, 0);
    for (const type of ['invalid_event', 'invalid_json', 'event_too_large', 'event_too_deep']) this.eventsInvalid.inc({ type }, 0);
  }

  /** A counter whose value is a running total kept by a component. */
  total(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** Gauges whose last read failed (an Elasticsearch search during a node loss): their series are left out of that scrape. */
  gaugeReadFailures = 0;

  /**
   * A gauge read at scrape time (possibly from Elasticsearch). A read that fails leaves this
   * gauge without series for that scrape, never the whole scrape failing.
   */
  gauge(name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, value: number) => void) => Promise<void> | void): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          await read((labels, value) => this.set(labels, value));
        } catch {
          this.reset();
          metrics.gaugeReadFailures++;
        }
      },
    });
  }
}
