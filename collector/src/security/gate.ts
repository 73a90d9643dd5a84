// The door of every authenticated endpoint: who is calling (principals.ts), whether their
// role allows the route, how fast they may call (rate-limit.ts), and an audit record for each
// refusal (audit.ts). Routes read the caller from res.locals.principal.
import type { Request, RequestHandler, Response } from 'express';
import type { AuditCategory, AuditLog } from './audit.js';
import { requestFacts } from './audit.js';
import { principalFinder, ROLE_RANK, type AgentPrincipal, type ApiPrincipal, type Authentication, type Principal, type Role } from './principals.js';
import { RateLimiter, refuseRate, type RateLimitFamily, type RateLimits } from './rate-limit.js';

export interface GateDeps {
  api: Array<{ digest: Buffer; principal: ApiPrincipal }>;
  agents: Array<{ digest: Buffer; principal: AgentPrincipal }>;
  limits: RateLimits;
  audit?: AuditLog;
}

const ROLE_CAN: Record<Role, string> = {
  viewer: 'read',
  operator: 'act on incidents (acknowledge, resolve, silence, ticket)',
  admin: 'change rules, integrations and silences of every team, and read the audit trail',
};

export class Gate {
  readonly limiters: Record<RateLimitFamily, RateLimiter>;
  private readonly findApi: (req: Request) => Authentication<ApiPrincipal>;
  private readonly findAgent: (req: Request) => Authentication<AgentPrincipal>;

  constructor(private readonly deps: GateDeps) {
    this.findApi = principalFinder(deps.api);
    this.findAgent = principalFinder(deps.agents);
    this.limiters = Object.fromEntries(Object.entries(deps.limits).map(([family, cfg]) => [family, new RateLimiter(cfg)])) as Record<RateLimitFamily, RateLimiter>;
  }

  get audit(): AuditLog | undefined {
    return this.deps.audit;
  }

  /** Agents (POST /v1/events): an agent token, rate-limited per token. */
  agent(): RequestHandler {
    return this.authenticate(this.findAgent, 'agent token', 'stacklens-agents', 'ingest', 'ingest');
  }

  /** /api: an API token whose role is at least `min`, rate-limited per principal. */
  api(min: Role): RequestHandler {
    const authenticate = this.authenticate(this.findApi, 'API token', 'stacklens-api', 'api', 'api');
    return (req, res, next) => {
      // Already let in by an earlier gate on this request (router-level, then route-level).
      const known = res.locals.principal as ApiPrincipal | undefined;
      const check = () => {
        const p = res.locals.principal as ApiPrincipal;
        if (ROLE_RANK[p.role] >= ROLE_RANK[min]) return next();
        this.refuse(req, res, 403, `${p.name} has the ${p.role} role; this needs the ${min} role (to ${ROLE_CAN[min]})`, 'authorization', 'auth.role', typeof req.params.id === 'string' ? req.params.id : routeOf(req));
      };
      if (known) return check();
      authenticate(req, res, check);
    };
  }

  /**
   * Configuration every team shares (rules reload, integrations, the outbox, the audit trail):
   * principals of no team scope only.
   */
  everyTeam(): RequestHandler {
    return (req, res, next) => {
      const p = res.locals.principal as ApiPrincipal;
      if (!p.teams) return next();
      this.refuse(req, res, 403, `${p.name} is scoped to team ${p.teams.join(', ')}; this reads or changes what every team shares`, 'authorization', 'auth.team_scope', routeOf(req));
    };
  }

  /**
   * For endpoints that authenticate in their own way (Slack signatures, Mattermost tokens):
   * an address over rate_limits.auth_failures is refused before anything is checked, and
   * each 401 answered counts against it — guessing a chat secret is as slow as an API token.
   */
  countsAuthFailures(): RequestHandler {
    const failures = this.limiters.auth_failures;
    return (req, res, next) => {
      const address = `addr:${req.socket.remoteAddress ?? 'unknown'}`;
      const cooling = failures.exhausted(address);
      if (cooling > 0) return refuseRate(res, 'auth_failures', cooling);
      res.on('finish', () => {
        if (res.statusCode === 401) failures.take(address);
      });
      next();
    };
  }

  /**
   * Refuses a request with `status` and records it: 403 for what the principal may not do,
   * 404 for what it may not even know exists (another team's incident).
   */
  refuse(req: Request, res: Response, status: number, reason: string, category: AuditCategory, action: string, target?: string, via = 'api'): void {
    this.record(req, res, { action, category, outcome: 'failure', reason, target, via });
    res.status(status).json({ error: reason });
  }

  /** An audit record about this request (principal, address and request id filled in). */
  record(req: Request, res: Response, r: { action: string; category: AuditCategory; outcome: 'success' | 'failure'; reason?: string; target?: string; via?: string }): void {
    this.deps.audit?.record({ ...requestFacts(req, res), ...r, via: r.via ?? 'api' });
  }

  private authenticate<P extends Principal>(find: (req: Request) => Authentication<P>, what: string, realm: string, family: RateLimitFamily, via: string): RequestHandler {
    const failures = this.limiters.auth_failures;
    const limiter = this.limiters[family];
    return (req, res, next) => {
      const address = `addr:${req.socket.remoteAddress ?? 'unknown'}`;
      // An address that keeps failing is slowed down before its next guess is even checked.
      const cooling = failures.exhausted(address);
      if (cooling > 0) return refuseRate(res, 'auth_failures', cooling);
      const found = find(req);
      if (found.result !== 'ok') {
        failures.take(address);
        const reason = found.result === 'invalid' ? `invalid ${what}` : `missing ${what} (Authorization: Bearer <token>)`;
        this.deps.audit?.record({ ...requestFacts(req, res), action: 'auth.token', category: 'authentication', outcome: 'failure', reason, via });
        res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
        return void res.status(401).json({ error: reason });
      }
      res.locals.principal = found.principal;
      const wait = limiter.take(`principal:${found.principal.name}`);
      if (wait > 0) return refuseRate(res, family, wait);
      next();
    };
  }
}

/** The route a request matched, as written in the code (not as the client cased it): "POST /api/incidents/:id/ack". */
function routeOf(req: Request): string {
  return `${req.method} ${req.baseUrl.toLowerCase()}${req.route?.path ?? req.path.toLowerCase()}`;
}
