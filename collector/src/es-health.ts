// What the collector knows of its Elasticsearch, for /readyz and /metrics: the cluster's health
// (green, yellow: a replica missing — every write still lands; red: a primary missing) and which
// of the configured nodes the client currently takes as dead. Read at most once a second.
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '@stacklens/common';

export type ClusterStatus = 'green' | 'yellow' | 'red' | 'unreachable';
export const CLUSTER_STATUSES: readonly ClusterStatus[] = ['green', 'yellow', 'red', 'unreachable'];

export interface ElasticsearchHealth {
  status: ClusterStatus;
  /** Nodes in the cluster, as the cluster sees itself. */
  nodes?: number;
  unassigned_shards?: number;
  /**
   * Configured URLs the client uses now, and those it has set aside after failed requests
   * (a connection error or a 502/503/504 answer; pinged again after 5–20 s). Counts only: the
   * addresses are in the collector's log, not on its unauthenticated endpoints.
   */
  connections: { alive: number; dead: number };
  /** Why it is unreachable. */
  error?: string;
}

/** The configured node's address without credentials (for the log). */
export const origin = (url: URL) => `${url.protocol}//${url.host}`;

export class ElasticsearchHealthProbe {
  private last?: { at: number; health: Promise<ElasticsearchHealth> };
  private deadBefore = '';

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
  ) {}

  read(): Promise<ElasticsearchHealth> {
    if (this.last && Date.now() - this.last.at < 1000) return this.last.health;
    this.last = { at: Date.now(), health: this.fetch() };
    return this.last.health;
  }

  /** The client's view of the configured nodes right now (no request). */
  connectionsNow(): ElasticsearchHealth['connections'] {
    const dead = this.deadUrls().length;
    return { alive: this.all().length - dead, dead };
  }

  /** The configured nodes set aside now (for the log). */
  deadUrls(): string[] {
    return this.all()
      .filter((c) => c.status === 'dead')
      .map((c) => origin(c.url));
  }

  private all(): { url: URL; status: string }[] {
    return (this.client.connectionPool as unknown as { connections: { url: URL; status: string }[] }).connections ?? [];
  }

  private async fetch(): Promise<ElasticsearchHealth> {
    const dead = this.deadUrls().join(', ');
    if (dead !== this.deadBefore) {
      if (dead) this.log.warn({ set_aside: dead }, 'Elasticsearch nodes set aside after failed requests (pinged again after 5–20 s)');
      else this.log.info('every configured Elasticsearch node is in use again');
      this.deadBefore = dead;
    }
    try {
      // Retried on the next node: one dead node must not make the whole cluster look unreachable.
      const h = await this.client.cluster.health({ timeout: '2s' }, { requestTimeout: 3000, maxRetries: 2 });
      return { status: h.status.toLowerCase() as ClusterStatus, nodes: h.number_of_nodes, unassigned_shards: h.unassigned_shards, connections: this.connectionsNow() };
    } catch (err) {
      return { status: 'unreachable', connections: this.connectionsNow(), error: (err as Error).message };
    }
  }
}
