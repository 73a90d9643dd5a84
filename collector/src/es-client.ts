import { Client, ClusterConnectionPool } from '@elastic/elasticsearch';
import type { CollectorConfig } from './config.js';

/**
 * The official client, configured from collector.yaml (API key or basic auth, CA for TLS).
 * With several URLs (elasticsearch.urls) every request goes to the next node in turn (the
 * transport's default round-robin selector over the cluster pool's live nodes); a node
 * that fails is marked dead, skipped, and pinged (HEAD /) again after RESURRECT_AFTER_MS
 * (doubling with each failure, up to 4×) before it is used again. Sniffing stays off: the nodes' published addresses may not be
 * reachable from the collector (containers, proxies), the configured URLs are.
 */
/**
 * The client's own default waits a minute before it tries a dead node again: a restarted node
 * would get no share of the load (and /readyz would say degraded) for that long. A handful of
 * configured nodes makes a ping every few seconds cheap.
 */
export const RESURRECT_AFTER_MS = 5_000;

class ClusterPool extends ClusterConnectionPool {
  constructor(opts: ConstructorParameters<typeof ClusterConnectionPool>[0]) {
    super(opts);
    this.resurrectTimeout = RESURRECT_AFTER_MS;
    // Doubling stops at 4× (20 s), not 32×: a node back after a long outage is used again soon.
    this.resurrectTimeoutCutoff = 2;
  }
}

export function createEsClient(es: CollectorConfig['elasticsearch']): Client {
  const pool = es.nodes.length > 1 ? { ConnectionPool: ClusterPool, resurrectStrategy: 'ping' as const } : {};
  return new Client({
    nodes: es.nodes,
    ...pool,
    sniffOnStart: false,
    sniffInterval: false,
    sniffOnConnectionFault: false,
    auth: es.api_key ? { apiKey: es.api_key } : es.username ? { username: es.username, password: es.password! } : undefined,
    tls: es.ca ? { ca: es.ca } : undefined,
    requestTimeout: es.request_timeout,
    maxRetries: 2,
  });
}
