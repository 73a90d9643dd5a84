// stacklens-collector --config collector.yaml
import { readFileSync } from 'node:fs';
import { runServiceCli } from '@stacklens/common';
import { loadCollectorConfig } from './config.js';
import { Collector } from './collector.js';

const HELP = `Usage: stacklens-collector --config <collector.yaml> [--check]

Receives events from StackLens agents (POST /v1/events, bearer token), validates
each one, and indexes them into Elasticsearch data streams; events it cannot index
go to logs-stacklens.deadletter-default with the reason. Agents are acknowledged
only after Elasticsearch accepted their documents.

Endpoints: POST /v1/events, GET /healthz (process up), GET /readyz (Elasticsearch
reachable and templates installed).

Options:
  -c, --config <file>   collector configuration (YAML; \${ENV} and \${ENV:-default} are expanded)
      --check           validate the configuration and exit
  -h, --help            show this help
      --version         print the version and exit

Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error).
See README.md for every configuration key.`;

/** The collector's version: its package's (collector/package.json, beside dist/). */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

runServiceCli({
  name: 'stacklens-collector',
  version: VERSION,
  help: HELP,
  load: (file) => loadCollectorConfig(file),
  describe: (c) => `listen ${c.listen.host}:${c.listen.port}, Elasticsearch ${c.elasticsearch.nodes.join(', ')}`,
  async start(config, log) {
    const collector = new Collector(config, log);
    await collector.start();
    return collector;
  },
});
