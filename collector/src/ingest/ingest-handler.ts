// POST /v1/events after authentication and body reading: outline → request limits → events
// checked one by one as they are indexed → ack. A request fails as a whole only when it is
// not an agent batch (400), breaks a request limit (413, the limit named), or Elasticsearch
// cannot take it (503, the agent retries); every other problem is one event's, and that event
// is dead-lettered while its neighbours are indexed.
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '@stacklens/common';
import { ElasticsearchUnavailable, type Indexer } from '../indexer.js';
import type { CollectorMetrics } from '../metrics.js';
import { outlineBody, RequestRefused } from './body-outline.js';
import { agentIdOf, IngestBatch } from './ingest-batch.js';
import type { IngestLimits } from './limits.js';
import { Pacer } from './pacer.js';

export interface IngestHandlerDeps {
  indexer: Indexer;
  limits: IngestLimits;
  /** Cheap check for the ingest path: an unreachable Elasticsearch shows up in the bulk call itself. */
  templatesReady: () => boolean;
  metrics?: CollectorMetrics;
  /** The request's logger. */
  log: (res: Response) => Logger;
}

export function ingestHandler(deps: IngestHandlerDeps): RequestHandler {
  const { limits, metrics } = deps;

  /** The request's batch, or RequestRefused when the request fails as a whole. */
  const openBatch = async (req: Request): Promise<IngestBatch> => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const pacer = new Pacer();
    const outline = await outlineBody(body, { maxEvents: limits.max_events_per_request, pacer });
    return new IngestBatch(body, outline, agentIdOf(body, outline.agent), limits, pacer);
  };

  return async (req, res) => {
    if (!deps.templatesReady()) {
      res.setHeader('Retry-After', '2');
      res.status(503).json({ error: 'collector not ready: its Elasticsearch templates are not installed yet' });
      return;
    }
    let batch: IngestBatch;
    try {
      batch = await openBatch(req);
    } catch (err) {
      if (!(err instanceof RequestRefused)) throw err;
      metrics?.ingestRequestsRefused.inc({ limit: err.limit });
      res.status(err.status).json(err.status === 413 ? { error: err.message, limit: `ingest.${err.limit}` } : { error: err.message });
      return;
    }
    try {
      res.json(await deps.indexer.indexBatch(batch));
    } catch (err) {
      if (!(err instanceof ElasticsearchUnavailable)) throw err;
      deps.log(res).warn({ agent_id: batch.agentId, err: err.message }, 'batch not accepted; the agent will retry');
      res.setHeader('Retry-After', '2');
      res.status(503).json({ error: err.message });
    } finally {
      if (metrics) {
        for (const [type, n] of Object.entries(batch.invalidByType)) metrics.eventsInvalid.inc({ type }, n);
        if (batch.summarized > 0) metrics.deadLettersSummarized.inc(batch.summarized);
      }
    }
  };
}
