// stacklens-agent --config agent.yaml
import { runServiceCli } from '@stacklens/common';
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
         SIGHUP reloads the configuration: new inputs start, removed ones stop
         cleanly; an invalid new file is reported and the old one kept.
Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error).
See README.md for every configuration key.`;

runServiceCli({
  name: 'stacklens-agent',
  help: HELP,
  load: (file) => loadAgentConfig(file),
  describe: (c) => `${c.inputs.length} input(s), collector ${c.collector.urls.join(', ')}`,
  async start(config, log) {
    const agent = new Agent(config, log);
    await agent.start();
    return agent;
  },
});
