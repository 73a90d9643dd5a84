// Slack replay protection shared by every collector and surviving restarts. A signature
// accepted in one process's memory only would be accepted again after a restart, or by
// another collector behind the same URL. So each accepted signature is recorded in
// Elasticsearch with `create` under id sha256(signature): the first collector to record it
// wins, a second create answers 409 — a replay. Records are needed only while Slack's
// 5-minute window could still accept the request; older ones are deleted now and then.
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import { INDICES, type Logger } from '@stacklens/common';
import { isConflict, isNotFound } from '@stacklens/elasticsearch';
import { SLACK_MAX_AGE_SECONDS } from './slack-signature.js';

export const SLACK_REPLAY_INDEX = INDICES.slackReplay;
/** Records are kept this much past the window: collectors' clocks may differ a little. */
const CLOCK_SLACK_MS = 60_000;
/** At most one clean-up per collector this often, and only while requests arrive. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_PAGE = 1000;
const SWEEP_ROUNDS = 5;

const idOf = (signature: string) => createHash('sha256').update(signature).digest('hex');

export class SlackReplayGuard {
  private lastSweep = 0;

  constructor(
    private readonly es: Client,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** 'fresh' the first time any collector sees the signature, 'replayed' after; throws when Elasticsearch does not answer. */
  async claim(signature: string, timestampSeconds: number): Promise<'fresh' | 'replayed'> {
    try {
      await this.es.create({
        index: SLACK_REPLAY_INDEX,
        id: idOf(signature),
        // @timestamp is Slack's request time: the record matters until that is 5 minutes old.
        document: { '@timestamp': new Date(timestampSeconds * 1000).toISOString(), seen_at: new Date(this.now()).toISOString() },
      });
    } catch (err) {
      if (isConflict(err)) return 'replayed';
      throw err;
    }
    this.sweep();
    return 'fresh';
  }

  /** A verified request that could not be handled: Slack's retry must not count as a replay. */
  async forget(signature: string): Promise<void> {
    try {
      await this.es.delete({ index: SLACK_REPLAY_INDEX, id: idOf(signature) });
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ err: (err as Error).message }, 'could not forget a Slack request signature');
    }
  }

  /**
   * Delete records past the window, in the background. A search and a bulk delete rather than
   * _delete_by_query, which needs the reindex module (the embedded distribution lacks it).
   * Cheap: a one-shard index of a few minutes' requests, ids only.
   */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const before = new Date(now - SLACK_MAX_AGE_SECONDS * 1000 - CLOCK_SLACK_MS).toISOString();
    void (async () => {
      for (let round = 0; round < SWEEP_ROUNDS; round++) {
        const res = await this.es.search({ index: SLACK_REPLAY_INDEX, size: SWEEP_PAGE, _source: false, query: { range: { '@timestamp': { lt: before } } } });
        const ids = res.hits.hits.map((h) => h._id as string);
        if (ids.length > 0) await this.es.bulk({ operations: ids.map((id) => ({ delete: { _index: SLACK_REPLAY_INDEX, _id: id } })), refresh: true });
        if (ids.length < SWEEP_PAGE) return;
      }
    })().catch((err) => this.log.debug({ err: (err as Error).message }, 'Slack replay records not cleaned up; next time'));
  }
}
