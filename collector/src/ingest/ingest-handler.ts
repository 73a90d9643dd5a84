// POST /v1/events after authentication and body reading: outline → request limits → the
// token may send as this agent → events checked one by one as they are indexed → ack. A
// request fails as a whole only when it is not an agent batch (400), breaks a request limit
// (413, the limit named), names an agent id its token may not send as (403, audited: it is
// one agent's batch), or Elasticsearch cannot take it (503, the agent retries); every other
// problem is one event's — including a dataset the token may not write, or a data stream
// past its max_data_streams — and that event is dead-lettered while its neighbours are indexed.
import type { Request, RequestHandler, Response } from 'express';
import { REDELIVERY_HEADER, type Logger } from '@stacklens/common';
import { ElasticsearchUnavailable, type Indexer } from '../indexer.js';
import type { CollectorMetrics } from '../metrics.js';
import { requestFacts, type AuditLog } from '../security/audit.js';
import type { AgentPrincipal } from '../security/principals.js';
import { AgentScope, agentIdRefusal } from './agent-scope.js';
import { outlineBody, RequestRefused } from './body-outline.js';
import { DataStreamQuota } from './data-stream-quota.js';
import { agentIdOf, IngestBatch } from './ingest-batch.js';
import type { IngestLimits } from './limits.js';
import { Pacer } from './pacer.js';
import type { TemplateCatalog } from '@stacklens/detection';

export interface IngestHandlerDeps {
  indexer: Indexer;
  limits: IngestLimits;
  /** Cheap check for the ingest path: an unreachable Elasticsearch shows up in the bulk call itself. */
  templatesReady: () => boolean;
  /** The message-template miners (loaded from Elasticsearch before templatesReady). */
  messageTemplates: TemplateCatalog;
  metrics?: CollectorMetrics;
  /** The request's logger. */
  log: (res: Response) => Logger;
  /** Where refusals are recorded (an agent id the token may not send as). */
  audit?: AuditLog;
  /** Data streams each agent token created; default: one for this handler, over the indexer's client. */
  dataStreams?: DataStreamQuota;
}

/** The redelivery header's time (epoch ms), or undefined when the batch is not marked. */
export function redeliverySince(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const since = Number(header);
  // Marked, but with a time that says nothing: every backing index is checked.
  return Number.isFinite(since) && since > 0 ? since : 1;
}

export function ingestHandler(deps: IngestHandlerDeps): RequestHandler {
  const { limits, metrics } = deps;
  const dataStreams = deps.dataStreams ?? new DataStreamQuota(deps.indexer.client);

  /** The request's batch, or RequestRefused when the request fails as a whole. */
  const openBatch = async (req: Request, res: Response, principal: AgentPrincipal): Promise<IngestBatch> => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const pacer = new Pacer();
    const outline = await outlineBody(body, { maxEvents: limits.max_events_per_request, pacer });
    const agentId = agentIdOf(body, outline.agent);
    const refused = agentIdRefusal(principal, agentId);
    if (refused) {
      deps.audit?.record({ ...requestFacts(req, res), action: 'ingest.agent_id', category: 'authorization', outcome: 'failure', reason: refused, target: agentId, via: 'ingest' });
      throw new RequestRefused(403, refused, 'agent_id');
    }
    return new IngestBatch(body, outline, new AgentScope(principal, agentId, dataStreams, () => deps.log(res)), limits, pacer, deps.messageTemplates);
  };

  /** One audit record per request whose token wrote, or tried to create, data streams it may not. */
  const auditRefusedDatasets = (req: Request, res: Response, batch: IngestBatch): void => {
    const counts = ['dataset_not_allowed', 'max_data_streams'].filter((t) => batch.invalidByType[t]).map((t) => `${batch.invalidByType[t]} ${t}`);
    const reserved = batch.reasons.find((r) => r.includes('is reserved'));
    if (!deps.audit || (counts.length === 0 && !reserved)) return;
    const example = batch.reasons.find((r) => /may not write dataset|max_data_streams|is reserved/.test(r));
    const reason = [counts.length ? `events dead-lettered: ${counts.join(', ')}` : 'a reserved dataset', example].filter(Boolean).join('; ');
    deps.audit.record({ ...requestFacts(req, res), action: 'ingest.dataset', category: 'authorization', outcome: 'failure', reason, target: batch.agentId, via: 'ingest' });
  };

  return async (req, res) => {
    if (!deps.templatesReady()) {
      res.setHeader('Retry-After', '2');
      res.status(503).json({ error: 'collector not ready: its Elasticsearch templates are not installed yet' });
      return;
    }
    // Set by gate.agent() before this handler: only an agent token gets here.
    const principal = res.locals.principal as AgentPrincipal | undefined;
    if (principal?.kind !== 'agent') throw new Error('ingest handler reached without an agent principal (gate.agent() must come first)');
    let batch: IngestBatch;
    try {
      batch = await openBatch(req, res, principal);
    } catch (err) {
      if (!(err instanceof RequestRefused)) throw err;
      metrics?.ingestRequestsRefused.inc({ limit: err.limit });
      res.status(err.status).json(err.status === 413 ? { error: err.message, limit: `ingest.${err.limit}` } : { error: err.message });
      return;
    }
    try {
      res.json(await deps.indexer.indexBatch(batch, { redeliverySince: redeliverySince(req.get(REDELIVERY_HEADER)) }));
    } catch (err) {
      if (!(err instanceof ElasticsearchUnavailable)) throw err;
      deps.log(res).warn({ agent_id: batch.agentId, err: err.message }, 'batch not accepted; the agent will retry');
      res.setHeader('Retry-After', '2');
      res.status(503).json({ error: err.message });
    } finally {
      auditRefusedDatasets(req, res, batch);
      if (metrics) {
        for (const [type, n] of Object.entries(batch.invalidByType)) metrics.eventsInvalid.inc({ type }, n);
        if (batch.summarized > 0) metrics.deadLettersSummarized.inc(batch.summarized);
      }
    }
  };
}
