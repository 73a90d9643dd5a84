// stacklens-agent --config agent.yaml
import { parseArgs } from 'node:util';
import { ConfigError, createLogger } from '@stacklens/common';
import { loadAgentConfig } from './config.js';
import { Agent } from './agent.js';

const HELP = `Usage: stacklens-agent --config <agent.yaml> [--check]

Tails log files, parses each line into an ECS event and ships it to a StackLens
collector. A file's offset is committed only after the collector acknowledged it.

Options:
  -c, --config <file>   agent configuration (YAML; \${ENV} and \${ENV:-default} are expanded)
      --check           validate the configuration and exit
  -h, --help            show this help

Signals: SIGTERM/SIGINT ship what was read, commit offsets and exit.
Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error).
See README.md for every configuration key.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`stacklens-agent: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!args.config) {
    process.stderr.write(`stacklens-agent: --config is required\n\n${HELP}\n`);
    return 2;
  }
  let config;
  try {
    config = loadAgentConfig(args.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`stacklens-agent: invalid configuration:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.check) {
    process.stdout.write(`${args.config}: OK (${config.inputs.length} input(s), collector ${config.collector.urls.join(', ')})\n`);
    return 0;
  }
  const log = createLogger('agent');
  const agent = new Agent(config, log);
  await agent.start();
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      agent.stop().then(resolve, (err) => {
        log.error({ err: (err as Error).message }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`stacklens-agent: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
