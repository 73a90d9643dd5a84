import { Client } from '@elastic/elasticsearch';
import type { CollectorConfig } from './config.js';

/** The official client, configured from collector.yaml (API key or basic auth, CA for TLS). */
export function createEsClient(es: CollectorConfig['elasticsearch']): Client {
  return new Client({
    nodes: es.nodes,
    auth: es.api_key ? { apiKey: es.api_key } : es.username ? { username: es.username, password: es.password! } : undefined,
    tls: es.ca ? { ca: es.ca } : undefined,
    requestTimeout: es.request_timeout,
    maxRetries: 2,
  });
}
