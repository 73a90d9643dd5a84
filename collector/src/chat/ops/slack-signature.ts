// Slack request verification (https://api.slack.com/authentication/verifying-requests-from-slack):
// X-Slack-Signature = "v0=" + hex HMAC-SHA256(signing secret, "v0:{X-Slack-Request-Timestamp}:{raw body}").
// Timestamps more than 5 minutes from now are refused (replay window), and a signature
// already accepted inside that window is refused again (replay inside the window).
import { createHmac } from 'node:crypto';
import { sameSecret } from '../../security/same-secret.js';

export const SLACK_MAX_AGE_SECONDS = 5 * 60;

export type SlackVerdict = { ok: true } | { ok: false; reason: string };

export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** Checks signature and age; remembers accepted signatures until they would be too old anyway. */
export class SlackVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  verify(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): SlackVerdict {
    const timestamp = header(headers, 'x-slack-request-timestamp');
    const signature = header(headers, 'x-slack-signature');
    if (!timestamp || !signature) return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a Unix time' };
    const nowSeconds = Math.floor(this.now() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_MAX_AGE_SECONDS) return { ok: false, reason: 'request timestamp is more than 5 minutes from now' };
    if (!sameSecret(signature, slackSignature(this.secret, timestamp, rawBody))) return { ok: false, reason: 'signature does not match' };
    this.forgetOld(nowSeconds);
    if (this.seen.has(signature)) return { ok: false, reason: 'request already received (replayed)' };
    this.seen.set(signature, Number(timestamp));
    return { ok: true };
  }

  /** A verified request that could not be handled: its retry must not count as a replay. */
  forget(headers: Record<string, string | string[] | undefined>): void {
    const signature = header(headers, 'x-slack-signature');
    if (signature) this.seen.delete(signature);
  }

  private forgetOld(nowSeconds: number): void {
    for (const [sig, ts] of this.seen) {
      if (nowSeconds - ts > SLACK_MAX_AGE_SECONDS) this.seen.delete(sig);
      else break; // insertion order is roughly time order
    }
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
