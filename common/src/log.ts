// Structured JSON logs (pino) for agent and collector. Secrets never go into log fields:
// callers log ids, counts and reasons, never tokens or request bodies.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(component: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level: process.env.STACKLENS_LOG_LEVEL ?? level,
    base: { component },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'password', '*.password', 'api_key', '*.api_key'], censor: '[redacted]' },
  });
}
