// How many data streams each agent token may create (agent_tokens[].max_data_streams, 100 by
// default). Every data stream is at least one backing index and its shards: a token that
// names a new namespace per event can exhaust the cluster's shard limit, after which nobody's
// events can be written. Writing to a data stream that already exists is free; a new one is
// charged to the token whose event creates it, and an event that would take a token past
// its cap is dead-lettered instead (ingest-batch.ts).
//
// Which data streams exist: the cluster's logs-* streams, listed at most every REFRESH_MS
// when an unknown one shows up (and again, at most every RECHECK_MS, before refusing an event
// for the cap: someone may just have created it), plus the ones this collector let a token
// create since (which exist, or are being created).
//
// The counts are this process's, in memory: a restart resets them (the streams a token made
// before then exist by then, and are free), and each collector of a cluster counts its own.
// Memory is bounded: each token remembers at most its max_data_streams names, and the cached
// list is the cluster's own logs-* data streams.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';
import { ElasticsearchUnavailable } from '../indexer.js';
import type { AgentPrincipal } from '../security/principals.js';

export const REFRESH_MS = 30_000;
export const RECHECK_MS = 1_000;

export class DataStreamQuota {
  /** logs-* data streams of the cluster at the last listing. */
  private existing = new Set<string>();
  private listedAt = -Infinity;
  private listing?: Promise<void>;
  private listedOnce = false;
  /** Data streams each token (by principal name) was let create, in order. */
  private readonly created = new Map<string, Set<string>>();
  /** Every stream in `created`: they exist, or their first event is being written. */
  private readonly createdHere = new Set<string>();

  constructor(
    private readonly es: Pick<Client, 'indices'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Data streams `principal` created through this collector (since it started). */
  createdBy(principal: string): number {
    return this.created.get(principal)?.size ?? 0;
  }

  /**
   * Whether `principal` may write to `stream`: undefined if it may (a new stream is charged to
   * it), else the reason it may not. Throws ElasticsearchUnavailable when the cluster's data
   * streams were never listed and cannot be.
   */
  async admit(principal: AgentPrincipal, stream: string, log: () => Logger): Promise<string | undefined> {
    if (this.exists(stream)) return undefined;
    if (!this.listedOnce || this.now() - this.listedAt >= REFRESH_MS) {
      await this.list(log);
      if (this.exists(stream)) return undefined;
    }
    let mine = this.created.get(principal.name);
    if ((mine?.size ?? 0) >= principal.maxDataStreams && this.now() - this.listedAt >= RECHECK_MS) {
      // About to refuse: make sure the stream was not created meanwhile (another collector, an operator).
      await this.list(log);
      if (this.exists(stream)) return undefined;
      mine = this.created.get(principal.name);
    }
    // From here on synchronous: concurrent requests of one token cannot both take the last slot.
    if (this.exists(stream)) return undefined;
    if ((mine?.size ?? 0) >= principal.maxDataStreams) {
      return `${stream} would be a new data stream, and agent token "${principal.name}" has already created its max_data_streams (${principal.maxDataStreams})`;
    }
    if (!mine) this.created.set(principal.name, (mine = new Set()));
    mine.add(stream);
    this.createdHere.add(stream);
    return undefined;
  }

  private exists(stream: string): boolean {
    return this.existing.has(stream) || this.createdHere.has(stream);
  }

  /** List the cluster's logs-* data streams (one listing at a time; concurrent callers share it). */
  private list(log: () => Logger): Promise<void> {
    this.listing ??= this.fetch(log).finally(() => (this.listing = undefined));
    return this.listing;
  }

  private async fetch(log: () => Logger): Promise<void> {
    try {
      // _resolve/index: answered from the cluster state, and part of every Elasticsearch distribution.
      const res = await this.es.indices.resolveIndex({ name: 'logs-*', expand_wildcards: 'all', filter_path: 'data_streams.name' }, { requestTimeout: 10_000 });
      this.existing = new Set((res.data_streams ?? []).map((d) => d.name));
      this.listedOnce = true;
    } catch (err) {
      // Never listed: which streams are new is unknown, so the batch waits (503, the agent retries).
      if (!this.listedOnce) throw new ElasticsearchUnavailable(`cannot list the data streams of Elasticsearch (agent tokens' max_data_streams needs them): ${(err as Error).message}`);
      // The last listing stands in meanwhile (at worst a token is charged for a stream that exists).
      log().warn({ err: (err as Error).message }, 'cannot list the data streams of Elasticsearch; using the last listing');
    }
    this.listedAt = this.now();
  }
}
