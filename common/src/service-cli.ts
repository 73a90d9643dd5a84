// The command line shared by stacklens-agent and stacklens-collector: --config, --check
// (and --check --connect where the program offers it), --help, --version, clear config
// errors (exit 2), and a clean stop on SIGTERM/SIGINT. Whatever it
// prints itself (--check's summary, config and start-up errors) goes through
// maskUrlCredentials: a URL's password (http://elastic:***@es:9200) is never echoed.
import { parseArgs } from 'node:util';
import { ConfigError } from './config-file.js';
import { createLogger, LOG_FORMATS, logFormat, logLevel, type Logger } from './log.js';
import { maskUrlCredentials } from './mask-url.js';

const writeOut = (text: string) => process.stdout.write(maskUrlCredentials(text));
const writeErr = (text: string) => process.stderr.write(maskUrlCredentials(text));

export interface ServiceCliSpec<C> {
  name: string;
  /** Printed by --version as "<name> <version>". */
  version?: string;
  help: string;
  load(file: string): C;
  /** One line for --check: what the config sets up. */
  describe(config: C): string;
  /**
   * More of --check after the one-line summary (the agent: the files each glob matches; with
   * --connect, whether each collector answers). Writes through `write` and returns the exit
   * code. Without it, --check validates the configuration only and --connect is refused.
   */
  check?(config: C, opts: { connect: boolean; write: (text: string) => void }): Promise<number>;
  /**
   * --check when the configuration itself is invalid: what can still be checked from the
   * file as written (the collector: rules_dir and its rule files), so every problem shows in one pass.
   */
  checkUnloadable?(file: string, write: (text: string) => void): void;
  start(config: C, log: Logger): Promise<{ stop(): Promise<void>; reload?(config: C): Promise<void> | void }>;
}

async function main<C>(spec: ServiceCliSpec<C>): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'boolean' },
        connect: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        'log-format': { type: 'string' },
      },
    }).values;
  } catch (e) {
    writeErr(`${spec.name}: ${(e as Error).message}\n\n${spec.help}\n`);
    return 2;
  }
  if (args.help) {
    writeOut(`${spec.help}\n`);
    return 0;
  }
  if (args.version) {
    writeOut(`${spec.name} ${spec.version ?? '(version unknown)'}\n`);
    return 0;
  }
  const format = args['log-format'];
  if (format !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(format)) {
      writeErr(`${spec.name}: --log-format: "${format}" is not one of ${LOG_FORMATS.join(', ')}\n`);
      return 2;
    }
    process.env.STACKLENS_LOG_FORMAT = format;
  }
  // Bad logging variables are named before anything else runs (pino would throw a stack trace).
  try {
    logLevel();
    logFormat();
  } catch (e) {
    writeErr(`${spec.name}: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.connect && !args.check) {
    writeErr(`${spec.name}: --connect goes with --check (--check --connect)\n`);
    return 2;
  }
  if (args.connect && !spec.check) {
    writeErr(`${spec.name}: --check --connect is not offered by this program; --check validates the configuration\n`);
    return 2;
  }
  if (!args.config) {
    writeErr(`${spec.name}: --config is required\n\n${spec.help}\n`);
    return 2;
  }
  let config: C;
  try {
    config = spec.load(args.config);
  } catch (e) {
    writeErr(`${spec.name}: invalid configuration:\n${(e as Error).message}\n`);
    if (args.check && spec.checkUnloadable) {
      try {
        spec.checkUnloadable(args.config, writeErr);
      } catch {
        // the file is not even YAML: its error above says so
      }
    }
    return e instanceof ConfigError ? 2 : 1;
  }
  if (args.check) {
    writeOut(`${args.config}: OK (${spec.describe(config)})\n`);
    return spec.check ? spec.check(config, { connect: args.connect ?? false, write: writeOut }) : 0;
  }
  const log = createLogger(spec.name.replace(/^stacklens-/, ''));
  let service;
  try {
    service = await spec.start(config, log);
  } catch (e) {
    writeErr(`${spec.name}: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    // One clean stop, whatever arrives meanwhile: a second signal (Ctrl-C then SIGTERM, as a
    // supervisor sends) must not cut the shutdown short — the listeners stay installed so
    // Node's default (exit at once) never runs. SIGKILL remains for "stop now".
    let stopping: Promise<void> | undefined;
    const shutdown = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'already shutting down (shipping what was read, then committing); send SIGKILL to stop at once');
        return;
      }
      log.info({ signal }, 'shutting down');
      stopping = service.stop().then(resolve, (err) => {
        log.error({ err: (err as Error).message }, 'error during shutdown');
        resolve();
      });
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => {
      if (!service.reload) return log.warn('SIGHUP: this program reloads nothing; restart it to apply a new configuration');
      let next: C;
      try {
        next = spec.load(args.config!);
      } catch (err) {
        // A bad edit must not take the running service down: keep the old configuration.
        return log.error({ err: (err as Error).message }, 'SIGHUP: new configuration is invalid; keeping the current one');
      }
      Promise.resolve(service.reload(next)).then(
        () => log.info('SIGHUP: configuration reloaded'),
        (err) => log.error({ err: (err as Error).message }, 'SIGHUP: reload failed'),
      );
    });
  });
  return 0;
}

export function runServiceCli<C>(spec: ServiceCliSpec<C>): void {
  main(spec).then(
    (code) => process.exit(code),
    (e) => {
      writeErr(`${spec.name}: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
