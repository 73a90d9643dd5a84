// stacklens-agent --config agent.yaml
import { runServiceCli } from '@stacklens/common';
import { loadAgentConfig } from './config.js';
import { Agent } from './agent.js';
import { AGENT_VERSION } from './event-builder.js';
import { runCheck } from './check.js';

const HELP = `Usage: stacklens-agent --config <agent.yaml> [--check [--connect]]

Tails log files, parses each line into an ECS event and ships it to a StackLens
collector. A file's offset is committed only after the collector acknowledged it.

Options:
  -c, --config <file>   agent configuration (YAML; \${ENV} and \${ENV:-default} are expanded)
      --check           validate the configuration, list the files each glob matches now
                        (and those skipped: excluded, symbolic links, unreadable), and exit
      --connect         with --check: also ask each collector URL whether it answers and
                        accepts the token; exit 1 if one does not
      --log-format <f>  json, pretty or auto (default: pretty on a terminal, JSON otherwise)
  -h, --help            show this help
      --version         print the version and exit

Signals: SIGTERM/SIGINT ship what was read, commit offsets and exit.
         SIGHUP reloads the configuration: new inputs start, removed ones stop
         cleanly; an invalid new file is reported and the old one kept.
Environment: STACKLENS_LOG_LEVEL (trace|debug|info|warn|error), STACKLENS_LOG_FORMAT (json|pretty|auto).
Every configuration key: CONFIGURATION.md in the package (README.md, "agent.yaml", in the repository).

Example:
  stacklens-agent --config agent.yaml --check --connect
  stacklens-agent --config agent.yaml`;

runServiceCli({
  name: 'stacklens-agent',
  version: AGENT_VERSION,
  help: HELP,
  load: (file) => loadAgentConfig(file),
  describe: (c) => `${c.inputs.length} input(s), collector ${c.collector.urls.join(', ')}`,
  check: (config, { connect, write }) => runCheck(config, { connect, version: AGENT_VERSION, write }),
  async start(config, log) {
    const agent = new Agent(config, log);
    await agent.start();
    return agent;
  },
});
