// Builds the provisioned Grafana dashboards (dashboards/*.json) from this one description:
//   node dashboards/build.mjs          write the JSON files
//   node dashboards/build.mjs --check  exit 1 if a file differs from what this builds (the suite runs it)
// Datasource uids are those of grafana/provisioning/datasources/stacklens.yaml. Each panel's
// queries are run against real Elasticsearch and Prometheus by test/dashboards.e2e.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATASOURCES = {
  prometheus: { type: 'prometheus', uid: 'stacklens-prometheus' },
  logs: { type: 'elasticsearch', uid: 'stacklens-logs' },
  pos: { type: 'elasticsearch', uid: 'stacklens-pos' },
  chatbot: { type: 'elasticsearch', uid: 'stacklens-chatbot' },
  chat: { type: 'elasticsearch', uid: 'stacklens-chat' },
  incidents: { type: 'elasticsearch', uid: 'stacklens-incidents' },
};
const TIME_FIELD = { logs: '@timestamp', pos: '@timestamp', chatbot: '@timestamp', chat: '@timestamp', incidents: 'detected_at' };

// --- targets ---------------------------------------------------------------------------
const prom = (expr, legendFormat = '') => ({ ds: 'prometheus', expr, legendFormat });
/** An Elasticsearch query as Grafana's datasource stores it: Lucene query, metrics, bucket aggregations. */
const es = (ds, query, metrics, bucketAggs = [], alias = '') => ({ ds, query, metrics, bucketAggs, alias, timeField: TIME_FIELD[ds] });
const count = () => ({ type: 'count' });
const metric = (type, field, settings) => ({ type, field, ...(settings ? { settings } : {}) });
const rawData = (size = 100) => ({ type: 'raw_data', settings: { size: String(size) } });
const perTime = (interval = 'auto') => ({ type: 'date_histogram', field: '@timestamp', settings: { interval, min_doc_count: '0', trimEdges: '0' } });
const terms = (field, size = 10, orderBy = '_count', order = 'desc') => ({ type: 'terms', field, settings: { size: String(size), order, orderBy, min_doc_count: '1' } });

// --- panels ----------------------------------------------------------------------------
function panel(type, title, targets, { w = 12, h = 8, unit, description, options = {}, fieldConfig = {}, timeFrom, timeShift, transformations } = {}) {
  return { type, title, description, targets, w, h, unit, options, fieldConfig, timeFrom, timeShift, transformations };
}
const timeseries = (title, targets, o = {}) => panel('timeseries', title, targets, o);
const stat = (title, targets, o = {}) => panel('stat', title, targets, { w: 6, h: 4, ...o });
const table = (title, targets, o = {}) => panel('table', title, targets, o);
const barchart = (title, targets, o = {}) => panel('barchart', title, targets, { options: { xField: undefined, orientation: 'horizontal', showValue: 'auto' }, ...o });

function variable(name, label, ds, field, query = '') {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCES[ds],
    query: JSON.stringify({ find: 'terms', field, size: 500, ...(query ? { query } : {}) }),
    definition: JSON.stringify({ find: 'terms', field, ...(query ? { query } : {}) }),
    includeAll: true,
    allValue: '*',
    multi: true,
    refresh: 2,
    sort: 1,
    current: { selected: true, text: ['All'], value: ['$__all'] },
  };
}
const datasetVar = () => ({
  name: 'dataset',
  label: 'Dataset',
  type: 'query',
  datasource: DATASOURCES.prometheus,
  query: { query: 'label_values(stacklens_agent_lines_read_total, dataset)', refId: 'dataset' },
  definition: 'label_values(stacklens_agent_lines_read_total, dataset)',
  includeAll: true,
  allValue: '.*',
  multi: true,
  refresh: 2,
  current: { selected: true, text: ['All'], value: ['$__all'] },
});

function dashboard(uid, title, description, variables, rows, { from = 'now-24h', refresh = '30s' } = {}) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    let x = 0;
    let height = 0;
    for (const p of row) {
      const firstDs = p.targets[0].ds;
      panels.push({
        id: id++,
        type: p.type,
        title: p.title,
        ...(p.description ? { description: p.description } : {}),
        gridPos: { x, y, w: p.w, h: p.h },
        datasource: DATASOURCES[firstDs],
        ...(p.timeFrom ? { timeFrom: p.timeFrom } : {}),
        ...(p.timeShift ? { timeShift: p.timeShift } : {}),
        targets: p.targets.map((t, i) => {
          const refId = String.fromCharCode(65 + i);
          if (t.ds === 'prometheus') return { refId, datasource: DATASOURCES.prometheus, expr: t.expr, legendFormat: t.legendFormat, range: true };
          return {
            refId,
            datasource: DATASOURCES[t.ds],
            query: t.query,
            alias: t.alias,
            timeField: t.timeField,
            metrics: t.metrics.map((m, j) => ({ id: String(j + 1), ...m })),
            bucketAggs: t.bucketAggs.map((b, j) => ({ id: String(t.metrics.length + j + 1), ...b, ...(b.type === 'date_histogram' ? { field: t.timeField } : {}) })),
          };
        }),
        fieldConfig: { defaults: { ...(p.unit ? { unit: p.unit } : {}), ...(p.fieldConfig.defaults ?? {}) }, overrides: p.fieldConfig.overrides ?? [] },
        options: p.options,
        ...(p.transformations ? { transformations: p.transformations } : {}),
      });
      x += p.w;
      height = Math.max(height, p.h);
    }
    y += height;
  }
  return {
    uid,
    title,
    description,
    tags: ['stacklens'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    graphTooltip: 1,
    time: { from, to: 'now' },
    refresh,
    timezone: 'utc',
    templating: { list: variables },
    annotations: { list: [] },
    links: [{ title: 'StackLens', type: 'dashboards', tags: ['stacklens'], asDropdown: true }],
    panels,
  };
}

// --- 1. Pipeline health -------------------------------------------------------------------
const RATE = '$__rate_interval';
const pipeline = dashboard(
  'stacklens-pipeline',
  'StackLens · Pipeline health',
  'Agents, collector, Elasticsearch indexing, rules and the outbox of external actions.',
  [datasetVar()],
  [
    [
      stat('Agents up', [prom('sum(up{job="stacklens-agent"})')], { description: 'Agents Prometheus can scrape.' }),
      stat('Collectors up', [prom('sum(up{job="stacklens-collector"})')]),
      stat('Events indexed /s', [prom(`sum(rate(stacklens_collector_events_indexed_total[${RATE}]))`)], { unit: 'ops' }),
      stat('Dead letters (range)', [prom('sum(increase(stacklens_collector_events_dead_lettered_total[$__range]))')], { unit: 'short', description: 'Lines that did not parse or were refused: logs-stacklens.deadletter-default says why.' }),
    ],
    [
      timeseries('Events /s: read by agents, received, indexed', [
        prom(`sum by (dataset) (rate(stacklens_agent_lines_read_total{dataset=~"$dataset"}[${RATE}]))`, 'read · {{dataset}}'),
        prom(`sum(rate(stacklens_collector_events_received_total[${RATE}]))`, 'received'),
        prom(`sum(rate(stacklens_collector_events_indexed_total[${RATE}]))`, 'indexed'),
      ], { unit: 'ops' }),
      timeseries('Agent lag (bytes not read yet) and spool', [
        prom('sum by (instance) (stacklens_agent_file_lag_bytes)', 'lag · {{instance}}'),
        prom('sum by (instance) (stacklens_agent_spool_bytes)', 'spool · {{instance}}'),
      ], { unit: 'bytes' }),
    ],
    [
      timeseries('Bulk latency p95 and retries', [
        prom(`histogram_quantile(0.95, sum by (le) (rate(stacklens_collector_bulk_duration_seconds_bucket[${RATE}])))`, 'p95'),
        prom(`histogram_quantile(0.50, sum by (le) (rate(stacklens_collector_bulk_duration_seconds_bucket[${RATE}])))`, 'p50'),
      ], { unit: 's', w: 8 }),
      timeseries('Dead letters and bulk retries /s', [
        prom(`sum(rate(stacklens_collector_events_dead_lettered_total[${RATE}]))`, 'dead-lettered'),
        prom(`sum(rate(stacklens_collector_bulk_retries_total[${RATE}]))`, 'bulk retries'),
        prom('sum(stacklens_collector_ingest_requests_in_flight)', 'batches in flight'),
      ], { w: 8 }),
      timeseries('Rule evaluations /s and p95 latency', [
        prom(`sum by (trigger) (rate(stacklens_rule_evaluations_total[${RATE}]))`, '{{trigger}}'),
        prom(`histogram_quantile(0.95, sum by (le) (rate(stacklens_rule_evaluation_duration_seconds_bucket[${RATE}])))`, 'p95 seconds'),
      ], { w: 8 }),
    ],
    [
      timeseries('Outbox depth (pending + running) by action', [prom('sum by (action) (stacklens_outbox_tasks{status=~"pending|running"})', '{{action}}')], { w: 8 }),
      timeseries('Outbox failures and triage failures', [
        prom(`sum by (action) (rate(stacklens_outbox_tasks_total{result="failed"}[${RATE}]))`, 'failed · {{action}}'),
        prom(`sum by (action) (rate(stacklens_outbox_tasks_total{result="retry"}[${RATE}]))`, 'retried · {{action}}'),
        prom(`sum(rate(stacklens_triage_total{result="failed"}[${RATE}]))`, 'triage failed'),
      ], { w: 8 }),
      timeseries('Jira, LLM and chat calls by result', [prom(`sum by (service, result) (rate(stacklens_external_requests_total[${RATE}]))`, '{{service}} · {{result}}')], { w: 8, description: 'ok, rate_limited, unreachable, http_<status> or the platform\'s error code.' }),
    ],
    [
      timeseries('Audit trail by outcome', [es('logs', 'event.dataset:stacklens.audit', [count()], [terms('event.outcome'), perTime()], '{{term event.outcome}}')], {
        w: 8,
        description: 'logs-stacklens.audit-default: authentication failures, refusals, admin changes, incident actions and integration tests. A rise in failures is someone trying what they may not.',
      }),
      table('Audit trail: latest records', [es('logs', 'event.dataset:stacklens.audit', [rawData(50)])], {
        w: 16,
        description: 'Who (principal or chat user, never a token), what, target, outcome, reason, address, request id. Kibana: saved search "Audit trail". API: GET /api/audit (admins).',
      }),
    ],
    [
      table('Top message templates', [es('logs', 'stacklens.template_id:* AND NOT event.dataset:stacklens.*', [count()], [terms('event.dataset', 10), terms('stacklens.template_id', 25), terms('stacklens.message_template', 1)])], {
        w: 24,
        description: 'The kinds of message with the most events in the range, per dataset: each template is one kind of message with its variable parts as <*> (mined at ingest, stable id). A template that climbs here is a new or growing problem. API: GET /api/templates (with trends); CLI: stacklens templates mine <file>.',
      }),
    ],
  ],
  { from: 'now-1h', refresh: '10s' },
);

// --- 2. POS errors ----------------------------------------------------------------------
const POS_FILTER = 'pos.store_id:$store AND pos.kiosk_id:$kiosk';
const posErrors = dashboard(
  'stacklens-pos-errors',
  'StackLens · POS errors',
  'Errors the point-of-sale services log, by type, store, kiosk and product; open incidents and their tickets.',
  [variable('store', 'Store', 'pos', 'pos.store_id'), variable('kiosk', 'Kiosk', 'pos', 'pos.kiosk_id', 'pos.store_id:$store')],
  [
    [timeseries('Errors over time by type', [es('pos', `error.type:* AND ${POS_FILTER}`, [count()], [terms('error.type'), perTime()], '{{term error.type}}')], { w: 24, options: { legend: { displayMode: 'table', placement: 'right', calcs: ['sum'] } } })],
    [
      barchart('Errors by store', [es('pos', `error.type:* AND ${POS_FILTER}`, [count()], [terms('pos.store_id', 20)])], { w: 8 }),
      barchart('Errors by kiosk', [es('pos', `error.type:* AND ${POS_FILTER}`, [count()], [terms('pos.kiosk_id', 20)])], { w: 8 }),
      table('Products sold without a price', [es('pos', `error.type:MISSING_PRICE AND ${POS_FILTER}`, [count()], [terms('pos.product_id', 50), terms('pos.product_name', 1)])], { w: 8, description: 'MISSING_PRICE by product: set these prices in the master data.' }),
    ],
    [
      panel('heatmap', 'Errors: store × hour', [es('pos', `error.type:* AND ${POS_FILTER}`, [count()], [terms('pos.store_id', 20, '_term', 'asc'), perTime('1h')], '{{term pos.store_id}}')], {
        w: 12,
        options: { calculate: false, yAxis: { axisPlacement: 'left' }, color: { mode: 'scheme', scheme: 'Reds', steps: 64 }, cellGap: 1 },
      }),
      table('Open incidents', [es('incidents', 'status:(open OR acknowledged) AND labels.team:pos', [rawData(50)])], {
        w: 12,
        transformations: [{ id: 'organize', options: { indexByName: { id: 0, severity: 1, status: 2, summary: 3, group_key: 4, count: 5, 'ticket.key': 6, last_seen: 7 }, excludeByName: {} } }, { id: 'filterFieldsByName', options: { include: { names: ['id', 'severity', 'status', 'summary', 'group_key', 'count', 'ticket.key', 'ticket.url', 'last_seen'] } } }],
        fieldConfig: { overrides: [{ matcher: { id: 'byName', options: 'ticket.key' }, properties: [{ id: 'links', value: [{ title: 'Open in Jira', url: '${__data.fields["ticket.url"]}', targetBlank: true }] }] }] },
      }),
    ],
  ],
);

// --- 3. Chat-bot activity ---------------------------------------------------------------
const IN = 'chatbot.direction:in';
const chatbot = dashboard(
  'stacklens-chatbot',
  'StackLens · Chat-bot activity',
  'Messages, users and response times of the chat bot; when people talk to it; unusual hours.',
  [],
  [
    [
      timeseries('Messages per hour — last 24 h', [es('chatbot', IN, [count()], [perTime('1h')], 'messages')], { timeFrom: '24h', w: 12 }),
      timeseries('Messages per hour — the 24 h before', [es('chatbot', IN, [count()], [perTime('1h')], 'messages, a day earlier')], { timeFrom: '24h', timeShift: '24h', w: 12 }),
    ],
    [
      stat('Active users · last 30 min', [es('chatbot', IN, [metric('cardinality', 'user.id')])], { timeFrom: '30m' }),
      stat('Active users · today', [es('chatbot', IN, [metric('cardinality', 'user.id')])], { timeFrom: 'now/d' }),
      panel('timeseries', 'Active users per day · 7 days', [es('chatbot', IN, [metric('cardinality', 'user.id')], [perTime('1d')], 'users')], { w: 12, h: 4, timeFrom: '7d' }),
    ],
    [
      timeseries('Response time p50 / p95', [es('chatbot', 'chatbot.direction:out', [metric('percentiles', 'chatbot.response_time_ms', { percents: ['50', '95'] })], [perTime()])], { unit: 'ms', w: 12 }),
      table('Top users', [es('chatbot', IN, [count()], [terms('user.name', 10)])], { w: 12 }),
    ],
    [
      table('When people talk: weekday × hour (UTC)', [es('chatbot', IN, [count()], [terms('chatbot.day_of_week', 7, '_term', 'asc'), terms('chatbot.hour_of_day', 24, '_term', 'asc')])], {
        w: 12,
        h: 9,
        timeFrom: '7d',
        transformations: [{ id: 'groupingToMatrix', options: { rowField: 'chatbot.day_of_week', columnField: 'chatbot.hour_of_day', valueField: 'Count', emptyValue: 'zero' } }],
        fieldConfig: { defaults: { custom: { cellOptions: { type: 'color-background', mode: 'gradient' } }, color: { mode: 'continuous-GrYlRd' } } },
      }),
      table('Hours more than 2σ from the mean (7 days)', [es('chatbot', IN, [count()], [perTime('1h')], 'Count')], {
        w: 12,
        h: 9,
        timeFrom: '7d',
        description: 'Each hour\'s message count against the mean and standard deviation of the 7 days shown; only hours beyond ±2σ are listed.',
        transformations: [
          { id: 'calculateField', options: { mode: 'windowFunctions', alias: 'mean', window: { field: 'Count', reducer: 'mean', windowAlignment: 'centered', windowSizeMode: 'percentage', windowSize: 1 } } },
          { id: 'calculateField', options: { mode: 'windowFunctions', alias: 'sigma', window: { field: 'Count', reducer: 'stdDev', windowAlignment: 'centered', windowSizeMode: 'percentage', windowSize: 1 } } },
          { id: 'calculateField', options: { mode: 'binary', alias: 'deviation', binary: { left: 'Count', operator: '-', right: 'mean' } } },
          { id: 'calculateField', options: { mode: 'binary', alias: 'z', binary: { left: 'deviation', operator: '/', right: 'sigma' } } },
          { id: 'filterByValue', options: { type: 'include', match: 'any', filters: [{ fieldName: 'z', config: { id: 'greater', options: { value: 2 } } }, { fieldName: 'z', config: { id: 'lower', options: { value: -2 } } }] } },
        ],
      }),
    ],
  ],
);

// --- 4. Incidents & triage --------------------------------------------------------------
const TEAM = 'labels.team:$team';
const incidents = dashboard(
  'stacklens-incidents',
  'StackLens · Incidents & triage',
  'Incidents by severity and team, how fast they are acknowledged and resolved, AI triage confidence, tickets.',
  [variable('team', 'Team', 'incidents', 'labels.team')],
  [
    [
      stat('Open critical', [es('incidents', `status:open AND severity:critical AND ${TEAM}`, [count()])], { fieldConfig: { defaults: { color: { mode: 'fixed', fixedColor: 'red' } } } }),
      stat('Open high', [es('incidents', `status:open AND severity:high AND ${TEAM}`, [count()])]),
      stat('Acknowledged', [es('incidents', `status:acknowledged AND ${TEAM}`, [count()])]),
      stat('Resolved', [es('incidents', `status:resolved AND ${TEAM}`, [count()])]),
    ],
    [
      barchart('Open incidents by severity', [es('incidents', `status:(open OR acknowledged) AND ${TEAM}`, [count()], [terms('severity', 4)])], { w: 8 }),
      timeseries('Incidents opened, by severity', [es('incidents', TEAM, [count()], [terms('severity', 4), perTime()], '{{term severity}}')], { w: 16 }),
    ],
    [
      timeseries('Time to acknowledge and to resolve (mean)', [
        es('incidents', `_exists_:time_to_acknowledge_seconds AND ${TEAM}`, [metric('avg', 'time_to_acknowledge_seconds')], [perTime()], 'to acknowledge'),
        es('incidents', `_exists_:time_to_resolve_seconds AND ${TEAM}`, [metric('avg', 'time_to_resolve_seconds')], [perTime()], 'to resolve'),
      ], { unit: 's', w: 12 }),
      timeseries('AI triage confidence', [es('incidents', `triage.source:llm AND ${TEAM}`, [metric('avg', 'triage.analysis.confidence'), metric('min', 'triage.analysis.confidence')], [perTime()])], { unit: 'percentunit', w: 12 }),
    ],
    [
      barchart('Tickets by state', [es('incidents', `_exists_:ticket_state AND ${TEAM}`, [count()], [terms('ticket_state', 5)])], { w: 8 }),
      barchart('Triage by source', [es('incidents', `_exists_:triage.source AND ${TEAM}`, [count()], [terms('triage.source', 2)])], { w: 8 }),
      table('Incidents by rule', [es('incidents', TEAM, [count(), metric('avg', 'time_to_resolve_seconds')], [terms('rule', 30)])], { w: 8 }),
    ],
  ],
  { from: 'now-7d' },
);

export const DASHBOARDS = { 'pipeline-health.json': pipeline, 'pos-errors.json': posErrors, 'chatbot-activity.json': chatbot, 'incidents-triage.json': incidents };

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, d] of Object.entries(DASHBOARDS)) {
    const text = `${JSON.stringify(d, null, 2)}\n`;
    const path = join(here, file);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current !== text) {
        console.error(`${path} is not what dashboards/build.mjs makes: run node dashboards/build.mjs`);
        stale++;
      }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path} (${d.panels.length} panels)`);
    }
  }
  process.exit(stale ? 1 : 0);
}
