// stacklens: operations — embedded Elasticsearch, the demo, and the simulators.
import { readFileSync } from 'node:fs';
import { esCommand } from './es-command.js';
import { demoCommand } from './demo-command.js';
import { posCommand, chatbotCommand } from './sim-commands.js';
import { rulesCommand } from './rules-command.js';
import { templatesCommand } from './templates-command.js';
import { searchCommand } from './search-command.js';
import { tailCommand } from './tail-command.js';
import { incidentsCommand } from './incidents-command.js';

const HELP = `Usage: stacklens <command> [options]

Commands:
  es <start|stop|status>   run the embedded Elasticsearch 8.14 (data under .stacklens/)
  demo                     Elasticsearch + collector + agent + POS and chat-bot simulators
  pos                      append POS log lines (orders or a failure scenario) to a file
  chatbot                  append chat-bot conversation lines to a file
  rules test <rules> <log> replay a log offline through rules; print what would fire
  rules import <files>     convert ElastAlert2 rules into StackLens rules; report the rest
  rules check <dir>        validate rule files; with --collector, list the rules failing there
  templates mine <file>    mine a log file's message templates offline (as the collector does)
  search '<query>'         search a collector's logs and chat messages; --export FILE for all of them
  tail                     follow a collector's events (and --incidents) as they are indexed
  incidents <list|show|ack|resolve|silence>
                           operate a collector's incidents from the terminal

Commands that talk to a collector take --url (or $STACKLENS_URL) and --token (or $STACKLENS_TOKEN),
or read url: and token: from ~/.config/stacklens/cli.yaml.
Run "stacklens <command> --help" for a command's options; "stacklens --version" prints the version.
The agent and collector are separate programs: stacklens-agent, stacklens-collector.`;

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  es: esCommand,
  demo: demoCommand,
  pos: posCommand,
  chatbot: chatbotCommand,
  rules: rulesCommand,
  templates: templatesCommand,
  search: searchCommand,
  tail: tailCommand,
  incidents: incidentsCommand,
};

/** The CLI's version: its package's (cli/package.json, beside dist/). */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version') {
    process.stdout.write(`stacklens ${VERSION}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`stacklens: unknown command "${name}"\n\n${HELP}\n`);
    return 2;
  }
  return command(rest);
}

/**
 * Exit once what was written has left: stdout to a pipe is asynchronous, and exiting at once
 * would cut it at 64 KiB (`stacklens incidents list --json | jq`).
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// A reader that stopped reading (| head): nothing more to say, and no error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).then(exitAfterFlush, (err) => {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`stacklens: ${e.code === 'EISDIR' ? `${e.path ?? 'a path'} is a directory, not a file` : e.message}\n`);
  exitAfterFlush(1);
});
