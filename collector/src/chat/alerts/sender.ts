// What the alert pipeline needs from a chat platform. Implemented by the Slack Web API,
// Mattermost REST, and each platform's incoming webhook (which can only post): Slack's,
// Mattermost's and Microsoft Teams' (teams.ts).
import type { ChatMessageRef, Incident } from '@stacklens/detection';
import type { Destination } from './routing.js';

export interface Posted {
  channel_id: string;
  message_id: string;
}

export interface ChatSender {
  /** The integration type it posts for (an AlertPlatform). */
  readonly platform: string;
  /** False for incoming webhooks: updates are posted as new messages, without a thread. */
  readonly canEdit: boolean;
  post(dest: Destination, inc: Incident): Promise<Posted>;
  /** The alert a previous attempt may have posted before it died (looked up on retries only). */
  findPosted(dest: Destination, inc: Incident): Promise<Posted | undefined>;
  update(ref: ChatMessageRef, inc: Incident): Promise<void>;
  reply(ref: ChatMessageRef, inc: Incident, text: string): Promise<void>;
}

/** One platform call, its outcome counted ("ok", or what `classify` makes of the failure). */
export async function observed<T>(fn: () => Promise<T>, observe: (result: string) => void, classify: (err: unknown) => Error): Promise<T> {
  let res: T;
  try {
    res = await fn();
  } catch (err) {
    throw classify(err);
  }
  observe('ok');
  return res;
}
