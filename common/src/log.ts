// Structured JSON logs (pino) for agent and collector. Secrets never go into log fields:
// callers log ids, counts and reasons, never tokens or request bodies. Two nets catch what
// slips through anyway: `redact` censors fields named like secrets, and every line is passed
// through maskUrlCredentials before it is written, so the password of a URL
// (http://elastic:***@es:9200) never reaches the log, wherever it sits — the message, a
// field, an array, an error's message or stack, a child logger's bindings.
import { pino, destination as pinoDestination, type DestinationStream, type Logger, type LevelWithSilent, type LoggerOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { createRequire } from 'node:module';
import { maskUrlCredentials } from './mask-url.js';

/**
 * pino-pretty is loaded only when logs are pretty (a terminal): a service writing JSON —
 * the packaged agent under systemd — does not pay its modules' memory (~5 MB of RSS).
 */
function prettyStream(options: PrettyOptions): DestinationStream | undefined {
  try {
    const load = createRequire(import.meta.url);
    return (load('pino-pretty') as (o: PrettyOptions) => DestinationStream)(options);
  } catch {
    // The packaged agent leaves pino-pretty out (its bundle stays small): JSON then.
    return undefined;
  }
}

export type { Logger };

export const LOG_FORMATS = ['json', 'pretty', 'auto'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * JSON for machines (a pipe, a file, journald), readable lines for people: `auto` (the
 * default) is pretty when stdout is a terminal. $STACKLENS_LOG_FORMAT, or the programs'
 * --log-format, chooses.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  const f = (env.STACKLENS_LOG_FORMAT ?? 'auto') as LogFormat;
  if (!(LOG_FORMATS as readonly string[]).includes(f)) throw new Error(`STACKLENS_LOG_FORMAT: "${f}" is not one of ${LOG_FORMATS.join(', ')}`);
  return f === 'pretty' || (f !== 'json' && isTty) ? 'pretty' : 'json';
}

/** The options createLogger gives pino (exported for the bench and tests). */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The log level from STACKLENS_LOG_LEVEL (or `fallback`); a clear error for a name pino does not know. */
export function logLevel(fallback: LevelWithSilent = 'info', env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const level = env.STACKLENS_LOG_LEVEL ?? fallback;
  if (!LEVELS.includes(level)) throw new Error(`STACKLENS_LOG_LEVEL: "${level}" is not one of ${LEVELS.join(', ')}`);
  return level as LevelWithSilent;
}

export function loggerOptions(component: string, level: LevelWithSilent = 'info'): LoggerOptions {
  return {
    level: logLevel(level),
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'password', '*.password', 'api_key', '*.api_key'], censor: '[redacted]' },
    // "level":"warn", not 40: readable in any log viewer (Kibana, jq, journald) without a table.
    formatters: { level: (label) => ({ level: label }) },
    // On the serialized line, just before it is written: one indexOf('://') for a line
    // without a URL. Masking the JSON text keeps it valid JSON (see mask-url.ts).
    hooks: { streamWrite: maskUrlCredentials },
  };
}

export function createLogger(component: string, level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  if (destination) return pino(loggerOptions(component, level), destination);
  if (logFormat() === 'json') return pino(loggerOptions(component, level), stdoutSync());
  // pino's own pretty printer, in this thread (sync: nothing lost at exit), after the same masking.
  const colorize = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const stream = prettyStream({ sync: true, colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,component', messageFormat: '{component}: {msg}' });
  return pino(loggerOptions(component, level), stream ?? stdoutSync());
}

/**
 * Standard output, written synchronously — as Node writes stdout to files and pipes anyway
 * (logs are a few lines a minute). pino's default, asynchronous destination flushes at exit in
 * a loop that retries a broken pipe for ever (sonic-boom 4's flushSync): with the reader of
 * stdout gone (journald restarted, `| head`), a stopping agent or collector hung until
 * SIGKILL. A synchronous write meets the broken pipe at once, and pino drops what follows.
 */
function stdoutSync(): DestinationStream {
  return pinoDestination({ dest: 1, sync: true });
}
