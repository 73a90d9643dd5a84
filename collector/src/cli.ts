// stacklens-collector --config collector.yaml
import { readFileSync } from 'node:fs';
import { runServiceCli } from '@stacklens/common';
import { loadCollectorConfig } from './config.js';
import { checkCollector, checkRulesOfInvalidConfig } from './check.js';
import { Collector } from './collector.js';

const HELP = `Usage: stacklens-collector --config <collector.yaml> [--check [--connect]]

Receives events from StackLens agents (POST /v1/events, bearer token), validates
each one, and indexes them into Elasticsearch data streams; events it cannot index
go to logs-stacklens.deadletter-default with the reason. Agents are acknowledged
only after Elasticsearch accepted their documents.

Endpoints (README "Collector API" has each one's parameters):
  POST /v1/events                      agents' batches (agent token)
  GET  /healthz, /readyz, /metrics     process up; ready/degraded (200) or not (503); Prometheus
  GET  /api/incidents[/:id]            incidents (viewer); POST …/:id/ack, …/resolve,
                                       …/:id/ticket (operator)
  GET  /api/silences; POST /api/silences; DELETE /api/silences/:id
  GET  /api/search, /api/search/export full-text search; every match as CSV or NDJSON
  GET  /api/tail                       live tail (WebSocket)
  GET  /api/templates                  top message templates
  GET  /api/rules; POST /api/rules/reload
  GET  /api/outbox, /api/audit         external actions; the audit trail (admin)
  /api/admin/integrations[/:id][/test] integrations (admin)
  POST /slack/commands, /slack/actions, /slack/events; GET /slack/install,
       /slack/oauth/callback           Slack
  POST /mattermost/commands, /mattermost/actions

Options:
  -c, --config <file>   collector configuration (YAML; \${ENV} and \${ENV:-default} are expanded)
      --check           validate the configuration and every rule file in rules_dir
                        (file:line: key for each problem) and exit; 1 if any is bad
      --connect         with --check: also ask Elasticsearch whether it answers and accepts
                        the credentials
      --log-format <f>  json, pretty or auto (default: pretty on a terminal, JSON otherwise)
  -h, --help            show this help
      --version         print the version and exit

Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error), STACKLENS_LOG_FORMAT (json|pretty|auto).
See README.md for every configuration key.

Example:
  STACKLENS_AGENT_TOKEN=… stacklens-collector --config collector.yaml --check
  STACKLENS_AGENT_TOKEN=… stacklens-collector --config collector.yaml`;

/** The collector's version: its package's (collector/package.json, beside dist/). */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

runServiceCli({
  name: 'stacklens-collector',
  version: VERSION,
  help: HELP,
  load: (file) => loadCollectorConfig(file),
  describe: (c) => `listen ${c.listen.host}:${c.listen.port}, Elasticsearch ${c.elasticsearch.nodes.join(', ')}`,
  check: (config, { connect, write }) => checkCollector(config, { connect, write }),
  checkUnloadable: (file, write) => checkRulesOfInvalidConfig(file, write),
  async start(config, log) {
    const collector = new Collector(config, log);
    await collector.start();
    return collector;
  },
});
