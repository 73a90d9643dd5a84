// Structured JSON logs (pino) for agent and collector. Secrets never go into log fields:
// callers log ids, counts and reasons, never tokens or request bodies. Two nets catch what
// slips through anyway: `redact` censors fields named like secrets, and every line is passed
// through maskUrlCredentials before it is written, so the password of a URL
// (http://elastic:***@es:9200) never reaches the log, wherever it sits — the message, a
// field, an array, an error's message or stack, a child logger's bindings.
import { pino, type DestinationStream, type Logger, type LevelWithSilent, type LoggerOptions } from 'pino';
import { maskUrlCredentials } from './mask-url.js';

export type { Logger };

/** The options createLogger gives pino (exported for the bench and tests). */
export function loggerOptions(component: string, level: LevelWithSilent = 'info'): LoggerOptions {
  return {
    level: process.env.STACKLENS_LOG_LEVEL ?? level,
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'password', '*.password', 'api_key', '*.api_key'], censor: '[redacted]' },
    // On the serialized line, just before it is written: one indexOf('://') for a line
    // without a URL. Masking the JSON text keeps it valid JSON (see mask-url.ts).
    hooks: { streamWrite: maskUrlCredentials },
  };
}

export function createLogger(component: string, level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(component, level), destination) : pino(loggerOptions(component, level));
}
