// stacklens-collector --config collector.yaml
import { parseArgs } from 'node:util';
import { ConfigError, createLogger } from '@stacklens/common';
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

Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error).
See README.md for every configuration key.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`stacklens-collector: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!args.config) {
    process.stderr.write(`stacklens-collector: --config is required\n\n${HELP}\n`);
    return 2;
  }
  let config;
  try {
    config = loadCollectorConfig(args.config);
  } catch (err) {
    process.stderr.write(`stacklens-collector: invalid configuration:\n${(err as Error).message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
  if (args.check) {
    process.stdout.write(`${args.config}: OK (listen ${config.listen.host}:${config.listen.port}, Elasticsearch ${config.elasticsearch.nodes.join(', ')})\n`);
    return 0;
  }
  const log = createLogger('collector');
  const collector = new Collector(config, log);
  try {
    await collector.start();
  } catch (err) {
    process.stderr.write(`stacklens-collector: cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      collector.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`stacklens-collector: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
