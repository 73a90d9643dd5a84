// Which collectors share the outbox, and what each can run. Every collector writes a
// heartbeat document (kind: collector) into the outbox index every few seconds: its id, its
// capabilities (the integrations it has: llm, xero, jira, slack, slack:<team>, mattermost)
// and the rules it runs. Read back, these say
//   • who is running now (heartbeat within LIVE_MS, not stopped), and which rules: a task of
//     a rule is run by a collector running that rule while one runs; a pending task none of
//     them can run is "unclaimable" — the metric, the alert and GET /api/outbox show it;
//   • which integrations the peers running a rule have had lately: a triage waits for an
//     LLM when a collector running its rule has one, even if that collector is restarting.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import { isIndexMissing } from '@stacklens/elasticsearch';

export const HEARTBEAT_MS = 5_000;
/** A collector whose heartbeat is older than this is not running (3 missed beats). */
export const LIVE_MS = 3 * HEARTBEAT_MS;
/** Heartbeats older than this are deleted. */
const FORGET_MS = 7 * 24 * 3_600_000;
const CACHE_MS = 1_000;

export interface CollectorInfo {
  id: string;
  capabilities: string[];
  rules: string[];
  started_at: string;
  seen_at: string;
  stopped_at?: string;
  /** Heartbeat recent and not stopped. */
  live: boolean;
}

/** A rule as the registry names it: the same rule name may read other indices elsewhere. */
export const ruleKey = (name: string, index: string) => `${name}@${index}`;

export const heartbeatId = (collector: string) => `collector:${collector}`;

export class CollectorRegistry {
  private capabilities: string[] = [];
  private rules: () => string[] = () => [];
  private readonly startedAt = new Date().toISOString();
  private timer?: NodeJS.Timeout;
  private beats = 0;
  private warned = false;
  private cache?: { at: number; maxAgeMs: number; list: CollectorInfo[] };

  constructor(
    private readonly client: Client,
    private readonly index: string,
    readonly id: string,
    private readonly log: Logger,
  ) {}

  get own(): string[] {
    return this.capabilities;
  }

  /** The rules this collector runs (ruleKey). */
  ownRules(): string[] {
    return this.rules();
  }

  setCapabilities(caps: string[]): void {
    const next = [...new Set(caps)].sort();
    if (next.join(',') === this.capabilities.join(',')) return;
    this.capabilities = next;
    this.cache = undefined;
    if (this.timer) void this.beat();
  }

  setRules(rules: () => string[]): void {
    this.rules = rules;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    void this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beat(true);
  }

  /** Write this collector's heartbeat (and, now and then, forget collectors gone for a week). */
  async beat(stopping = false): Promise<void> {
    const now = new Date().toISOString();
    try {
      await this.client.index(
        {
          index: this.index,
          id: heartbeatId(this.id),
          document: { kind: 'collector', collector: this.id, capabilities: this.capabilities, rules: [...new Set(this.rules())].sort(), started_at: this.startedAt, seen_at: now, ...(stopping ? { stopped_at: now } : {}) },
        },
        // Stopping must not wait long for an Elasticsearch that is down: the heartbeat then just ages out.
        stopping ? { requestTimeout: 2000, maxRetries: 0 } : undefined,
      );
      this.cache = undefined;
      this.warned = false;
      if (this.beats++ % 720 === 0) await this.forgetOld();
    } catch (err) {
      if (!this.warned) this.log.warn({ err: (err as Error).message }, 'could not write the collector heartbeat; peers may think this collector is down');
      this.warned = true;
    }
  }

  /**
   * Forget collectors not seen for FORGET_MS. A search and a bulk delete, not
   * _delete_by_query: that needs the reindex module, which the embedded distribution lacks.
   */
  private async forgetOld(): Promise<void> {
    try {
      const res: any = await this.client.search({ index: this.index, size: 100, _source: false, query: { bool: { filter: [{ term: { kind: 'collector' } }, { range: { seen_at: { lt: Date.now() - FORGET_MS, format: 'epoch_millis' } } }] } } } as never);
      const ids: string[] = res.hits.hits.map((h: any) => h._id);
      if (ids.length > 0) await this.client.bulk({ operations: ids.map((id) => ({ delete: { _index: this.index, _id: id } })) });
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'could not forget old collector heartbeats');
    }
  }

  /** Collectors seen within maxAgeMs (this one included once it has beaten), newest first. */
  async list(maxAgeMs = LIVE_MS): Promise<CollectorInfo[]> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < CACHE_MS && this.cache.maxAgeMs >= maxAgeMs) {
      return this.cache.list.filter((c) => now - Date.parse(c.seen_at) <= maxAgeMs);
    }
    let hits: any[] = [];
    try {
      const res: any = await this.client.search({
        index: this.index,
        size: 500,
        sort: [{ seen_at: { order: 'desc', unmapped_type: 'date' } }],
        query: { bool: { filter: [{ term: { kind: 'collector' } }, { range: { seen_at: { gte: now - maxAgeMs, format: 'epoch_millis' } } }] } },
      } as never);
      hits = res.hits.hits;
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    const list = hits.map((h) => {
      const s = h._source;
      const stopped = s.stopped_at !== undefined && Date.parse(s.stopped_at) >= Date.parse(s.seen_at);
      return { id: s.collector, capabilities: s.capabilities ?? [], rules: s.rules ?? [], started_at: s.started_at, seen_at: s.seen_at, stopped_at: s.stopped_at, live: !stopped && now - Date.parse(s.seen_at) <= LIVE_MS } satisfies CollectorInfo;
    });
    this.cache = { at: now, maxAgeMs, list };
    return list;
  }

  /** The collectors running now (this one always counts while started, heartbeat written or not). */
  async live(): Promise<{ id: string; capabilities: string[]; rules: string[] }[]> {
    const others = (await this.list(LIVE_MS)).filter((c) => c.live && c.id !== this.id);
    return this.timer ? [{ id: this.id, capabilities: this.capabilities, rules: this.rules() }, ...others] : others;
  }
}
