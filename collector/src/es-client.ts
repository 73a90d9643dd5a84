import { Client, ClusterConnectionPool } from '@elastic/elasticsearch';
import type { CollectorConfig } from './config.js';

/**
 * The official client, configured from collector.yaml (API key or basic auth, CA for TLS).
 * With several URLs (elasticsearch.urls) every request goes to the next node in turn (the
 * transport's default round-robin selector over the cluster pool's live nodes); a node
 * that fails is marked dead, skipped, and pinged again after a minute (doubling up to 32 min)
 * before it is used again. Sniffing stays off: the nodes' published addresses may not be
 * reachable from the collector (containers, proxies), the configured URLs are.
 */
export function createEsClient(es: CollectorConfig['elasticsearch']): Client {
  const pool = es.nodes.length > 1 ? { ConnectionPool: ClusterConnectionPool, resurrectStrategy: 'ping' as const } : {};
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
