// What the collector knows of its Elasticsearch, for /readyz and /metrics: the cluster's health
// (green, yellow: a replica missing — every write still lands; red: a primary missing) and which
// of the configured nodes the client currently takes as dead. Read at most once a second.
import type { Client } from '@elastic/elasticsearch';

export type ClusterStatus = 'green' | 'yellow' | 'red' | 'unreachable';
export const CLUSTER_STATUSES: readonly ClusterStatus[] = ['green', 'yellow', 'red', 'unreachable'];

export interface ElasticsearchHealth {
  status: ClusterStatus;
  /** Nodes in the cluster, as the cluster sees itself. */
  nodes?: number;
  unassigned_shards?: number;
  /** The configured URLs the client uses now, and those it has marked dead (retried later). */
  connections: { alive: number; dead: number; dead_urls: string[] };
  /** Why it is unreachable. */
  error?: string;
}

/** The configured node's address without credentials. */
const origin = (url: URL) => `${url.protocol}//${url.host}`;

export class ElasticsearchHealthProbe {
  private last?: { at: number; health: Promise<ElasticsearchHealth> };

  constructor(private readonly client: Client) {}

  read(): Promise<ElasticsearchHealth> {
    if (this.last && Date.now() - this.last.at < 1000) return this.last.health;
    this.last = { at: Date.now(), health: this.fetch() };
    return this.last.health;
  }

  /** The client's view of the configured nodes right now (no request). */
  connectionsNow(): ElasticsearchHealth['connections'] {
    const all = (this.client.connectionPool as unknown as { connections: { url: URL; status: string }[] }).connections ?? [];
    const dead = all.filter((c) => c.status === 'dead');
    return { alive: all.length - dead.length, dead: dead.length, dead_urls: dead.map((c) => origin(c.url)) };
  }

  private async fetch(): Promise<ElasticsearchHealth> {
    try {
      // Retried on the next node: one dead node must not make the whole cluster look unreachable.
      const h = await this.client.cluster.health({ timeout: '2s' }, { requestTimeout: 3000, maxRetries: 2 });
      return { status: h.status.toLowerCase() as ClusterStatus, nodes: h.number_of_nodes, unassigned_shards: h.unassigned_shards, connections: this.connectionsNow() };
    } catch (err) {
      return { status: 'unreachable', connections: this.connectionsNow(), error: (err as Error).message };
    }
  }
}
