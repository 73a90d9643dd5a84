// The collector's HTTP API (Express): ingest, health and readiness.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler } from 'express';
import { EVENTS_PATH, type Logger } from '@stacklens/common';
import type { ElasticsearchHealth } from './es-health.js';
import type { Gate } from './security/gate.js';
import { rateLimit } from './security/rate-limit.js';
import type { Indexer } from './indexer.js';
import { ingestHandler } from './ingest/ingest-handler.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest/limits.js';
import type { EsTemplateStore, RuleEngine, TemplateCatalog } from '@stacklens/detection';
import { createApi } from './api.js';
import type { Notifier } from './integrations/notifier.js';
import { createIntegrationsApi, type IntegrationsApiDeps } from './admin/integrations-api.js';
import type { CollectorMetrics } from './metrics.js';
import type { Client } from '@elastic/elasticsearch';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TailHub } from './tail/tail-hub.js';

export interface Readiness {
  status: 'ready' | 'degraded' | 'not ready';
  reason?: string;
  elasticsearch?: ElasticsearchHealth;
}

export interface ServerDeps {
  /** Authentication, roles, rate limits and the audit trail of every endpoint. */
  gate: Gate;
  /** Largest ingest body after decompression (max_body_bytes). */
  maxBodyBytes: number;
  /** Per-request and per-event ingest limits (collector.yaml `ingest`); the defaults when absent. */
  ingest?: IngestLimits;
  indexer: Indexer;
  /** Why the collector is not ready (Elasticsearch unreachable, templates missing), or undefined when ready. */
  readiness: () => Promise<Readiness>;
  /** Cheap check for the ingest path: an unreachable Elasticsearch shows up in the bulk call itself. */
  templatesReady: () => boolean;
  /** The message-template miners (ingest) and their store (GET /api/templates). */
  messageTemplates: TemplateCatalog;
  templateStore?: EsTemplateStore;
  log: Logger;
  /** The detection engine behind /api (absent when detection is disabled). */
  engine?: RuleEngine;
  notifier?: Notifier;
  integrations?: IntegrationsApiDeps;
  metrics?: CollectorMetrics;
  /** Slack and Mattermost endpoints (absent when detection is disabled). */
  chatRoutes?: express.Router;
  es?: Client;
  /** The filter confining a team-scoped token's searches to its teams' data (ChatOps.scope). */
  teamScope?: (teams: string[]) => Promise<Record<string, unknown>>;
  tail?: TailHub;
  exportIdleMs?: number;
}

export function createServer(deps: ServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');

  // A request id on every request (the agent's X-Request-Id, or a new one), answered back
  // and carried by every log line about the request.
  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    if (deps.log.isLevelEnabled('debug')) {
      const started = performance.now();
      res.on('finish', () => requestLog(res).debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request'));
    }
    next();
  });
  // The request's logger, made only when something is logged (the ingest path stays lean).
  const requestLog = (res: express.Response): Logger => deps.log.child({ request_id: res.locals.requestId });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/metrics', async (_req, res) => {
    if (!deps.metrics) return void res.status(404).end();
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  // 200 while events can be taken (ready, or degraded: a node or replica missing, writes still
  // land); 503 when they cannot. The body says which and why.
  app.get('/readyz', async (_req, res) => {
    const r = await deps.readiness();
    res.status(r.status === 'not ready' ? 503 : 200).json(r);
  });

  app.post(
    EVENTS_PATH,
    deps.gate.agent(),
    express.raw({ type: () => true, limit: deps.maxBodyBytes, inflate: true }),
    ingestHandler({ indexer: deps.indexer, limits: deps.ingest ?? DEFAULT_INGEST_LIMITS, templatesReady: deps.templatesReady, messageTemplates: deps.messageTemplates, metrics: deps.metrics, log: requestLog, audit: deps.gate.audit }),
  );

  if (deps.chatRoutes) {
    // Per source address: Slack and Mattermost call from their servers; a flood from anywhere else is refused early.
    app.use('/slack', rateLimit(deps.gate.limiters.slack, 'slack'), deps.gate.countsAuthFailures());
    app.use('/mattermost', rateLimit(deps.gate.limiters.mattermost, 'mattermost'), deps.gate.countsAuthFailures());
    app.use(deps.chatRoutes);
  }
  if (deps.integrations) app.use('/api/admin/integrations', createIntegrationsApi(deps.integrations, deps.gate));
  if (deps.engine) {
    app.use('/api', createApi({ gate: deps.gate, engine: deps.engine, notifier: deps.notifier, metrics: deps.metrics, es: deps.es!, teamScope: deps.teamScope!, templateStore: deps.templateStore, tail: deps.tail, exportIdleMs: deps.exportIdleMs }));
  }

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (err.type === 'entity.too.large') {
      const refusal = bodyLimitRefusal(req.path, typeof err.limit === 'number' ? err.limit : undefined, deps.maxBodyBytes);
      if (req.path === EVENTS_PATH) deps.metrics?.ingestRequestsRefused.inc({ limit: 'max_body_bytes' });
      res.status(413).json(refusal);
      return;
    }
    const message = status < 500 ? String(err.message) : 'internal error';
    if (status >= 500) (res.locals.requestId ? requestLog(res) : deps.log).error({ method: req.method, path: req.path, err: String(err?.stack ?? err) }, 'request failed');
    res.status(status).json({ error: message });
  };
  app.use(onError);
  return app;
}

/**
 * The 413 for a body over its route's limit, naming that limit: the ingest endpoint's is
 * collector.yaml's max_body_bytes; the chat and API endpoints have their own, much smaller,
 * fixed by their routes (body-parser reports the one that applied).
 */
export function bodyLimitRefusal(path: string, limitBytes: number | undefined, maxBodyBytes: number): { error: string; limit: string } {
  if (path === EVENTS_PATH) {
    return { error: `body larger than the ingest limit, max_body_bytes (${maxBodyBytes} bytes after decompression); send smaller batches`, limit: 'max_body_bytes' };
  }
  const family = path.startsWith('/slack/') ? 'slack' : path.startsWith('/mattermost/') ? 'mattermost' : path.startsWith('/api/') ? 'api' : 'request';
  const name = { slack: 'the Slack endpoints (/slack/*)', mattermost: 'the Mattermost endpoints (/mattermost/*)', api: 'the API (/api/*)', request: path }[family];
  return { error: `body larger than the limit of ${name}: ${limitBytes ?? 'unknown'} bytes`, limit: `${family}_body_bytes` };
}

/**
 * The HTTP server's 'upgrade' handler: a WebSocket request goes through the Express app like
 * any request (request id, authentication, role, rate limit), with a response bound to its
 * socket for a refusal; the route that accepts it (GET /api/tail) takes the socket over.
 * Anything the app answers without taking the socket over closes it.
 */
export function upgradeThroughApp(app: express.Express): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    (req as IncomingMessage & { upgrade?: { socket: Duplex; head: Buffer } }).upgrade = { socket, head };
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on('finish', () => {
      if (!socket.destroyed) socket.end();
    });
    app(req as never, res as never);
  };
}
