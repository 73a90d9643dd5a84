// Request rate limits per caller (a token bucket per key): over the limit, 429 with
// Retry-After — what Slack, GitHub and Elasticsearch answer, and what our agents already
// honour. Keys are a principal's name or a source address, never a token.
import type { RequestHandler, Request, Response } from 'express';
import { z } from 'zod';

export const rateLimitSchema = z.strictObject({
  /** Sustained requests per second, per caller. */
  per_second: z.number().positive().max(1_000_000),
  /** Requests a caller may send at once before the sustained rate applies. */
  burst: z.number().int().min(1).max(1_000_000),
});
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;

/** Per family of endpoints; each refusal names its key (rate_limits.<family>). */
export const DEFAULT_RATE_LIMITS = {
  /** POST /v1/events per agent token (an agent sends a few batches a second; a backlog catch-up more). */
  ingest: { per_second: 200, burst: 1000 },
  /** /api/* per principal. */
  api: { per_second: 50, burst: 200 },
  /** /slack/* per source address (Slack's own rate is far below). */
  slack: { per_second: 50, burst: 200 },
  /** /mattermost/* per source address. */
  mattermost: { per_second: 50, burst: 200 },
  /** Failed authentications per source address, on every endpoint: guessing tokens is slow. */
  auth_failures: { per_second: 2, burst: 30 },
} satisfies Record<string, RateLimitConfig>;

export const rateLimitsSchema = z
  .strictObject({
    ingest: rateLimitSchema.default(DEFAULT_RATE_LIMITS.ingest),
    api: rateLimitSchema.default(DEFAULT_RATE_LIMITS.api),
    slack: rateLimitSchema.default(DEFAULT_RATE_LIMITS.slack),
    mattermost: rateLimitSchema.default(DEFAULT_RATE_LIMITS.mattermost),
    auth_failures: rateLimitSchema.default(DEFAULT_RATE_LIMITS.auth_failures),
  })
  .default(DEFAULT_RATE_LIMITS);
export type RateLimits = z.infer<typeof rateLimitsSchema>;
export type RateLimitFamily = keyof RateLimits;

/** Buckets kept at most; the least recently refilled are forgotten first (a forgotten caller starts full). */
const MAX_KEYS = 50_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly config: RateLimitConfig, private readonly now: () => number = () => performance.now()) {}

  /** Takes one request from key's bucket: 0 when allowed, else the seconds until one is. */
  take(key: string): number {
    const now = this.now();
    const { per_second, burst } = this.config;
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-inserted below: the Map's order is least recently used first
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * per_second);
      b.at = now;
    } else {
      b = { tokens: burst, at: now };
    }
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value as string);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / per_second;
  }

  /** Whether key is over its limit now, without taking anything. */
  exhausted(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.config.burst, b.tokens + ((this.now() - b.at) / 1000) * this.config.per_second);
    return tokens >= 1 ? 0 : (1 - tokens) / this.config.per_second;
  }
}

/** Answers 429 with Retry-After (whole seconds, at least 1) naming the limit. */
export function refuseRate(res: Response, family: RateLimitFamily, waitSeconds: number): void {
  res.setHeader('Retry-After', String(Math.max(1, Math.ceil(waitSeconds))));
  res.status(429).json({ error: `too many requests: over rate_limits.${family}; retry after ${Math.max(1, Math.ceil(waitSeconds))} s`, limit: `rate_limits.${family}` });
}

/** A middleware limiting by key (the source address when keyOf gives none). */
export function rateLimit(limiter: RateLimiter, family: RateLimitFamily, keyOf: (req: Request, res: Response) => string | undefined = () => undefined, onRefused?: (req: Request, res: Response) => void): RequestHandler {
  return (req, res, next) => {
    const key = keyOf(req, res) ?? `addr:${req.socket.remoteAddress ?? 'unknown'}`;
    const wait = limiter.take(key);
    if (wait === 0) return next();
    onRefused?.(req, res);
    refuseRate(res, family, wait);
  };
}
