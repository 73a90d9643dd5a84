// Who is calling: every bearer token of collector.yaml is a principal with a name, and what
// it may do. API tokens have a role (viewer < operator < admin) and optionally a team scope;
// agent tokens name the agent ids and datasets they may use. Tokens are kept, compared and
// logged only as SHA-256 digests; a principal is named by its `name`, never by its token.
import { timingSafeEqual } from 'node:crypto';
import { secretDigest } from './same-secret.js';
import type { Request } from 'express';
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do: viewers read, operators also act on incidents, admins also change configuration. */
export const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface ApiPrincipal {
  kind: 'api';
  name: string;
  role: Role;
  /** Teams (rules' labels.team) whose incidents and data the principal sees; undefined: every team. */
  teams?: string[];
}

export interface AgentPrincipal {
  kind: 'agent';
  name: string;
  /** Glob patterns (`*`) of the agent ids the token may send as. */
  agents: string[];
  /** Glob patterns of the datasets it may write (reserved ones are refused whatever this says). */
  datasets: string[];
  /** Distinct data streams this token may create; events for more are dead-lettered. */
  maxDataStreams: number;
  /**
   * Whose ids its events' ids are (ingest/event-ids.ts): a named token's name; every plain
   * token shares one — each may already send as any agent — so reordering or rotating plain
   * tokens never changes the ids of events a retry sends again.
   */
  idNamespace: string;
}

export type Principal = ApiPrincipal | AgentPrincipal;

/** Shortest clear token accepted: a guessable token is no boundary. */
export const MIN_TOKEN_CHARS = 16;
export const DEFAULT_MAX_DATA_STREAMS = 100;

/** A token as configured: clear (≥ 16 characters) or its digest `sha256:<64 hex>`, so the file need not hold it. */
export const tokenValue = () =>
  z
    .string()
    .refine((t) => /^sha256:[0-9a-f]{64}$/i.test(t) || t.length >= MIN_TOKEN_CHARS, {
      message: `must be at least ${MIN_TOKEN_CHARS} characters, or sha256:<64 hex digits> (the digest of the token: printf %s "$TOKEN" | sha256sum)`,
    });

const principalName = () => z.string().regex(/^[\w.@-]{1,64}$/, 'must be a name of 1–64 letters, digits, . _ @ -');
const globList = () => z.array(z.string().regex(/^[\w.*-]{1,256}$/, 'must be a name or a pattern with *')).min(1);

export const apiTokenSchema = z.strictObject({
  name: principalName(),
  token: tokenValue(),
  role: z.enum(ROLES),
  /** Team scope: the token sees and acts on these teams' incidents and data only. */
  teams: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a team name such as pos')).min(1).optional(),
});

export const agentTokenSchema = z.union([
  tokenValue(),
  z.strictObject({
    name: principalName(),
    token: tokenValue(),
    agents: globList().default(['*']),
    datasets: globList().default(['*']),
    max_data_streams: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_DATA_STREAMS),
  }),
]);

export type ApiTokenConfig = z.infer<typeof apiTokenSchema>;
export type AgentTokenConfig = z.infer<typeof agentTokenSchema>;

/** The SHA-256 digest of a token, from its clear text or from its `sha256:` form. */
export function tokenDigest(configured: string): Buffer {
  const m = /^sha256:([0-9a-f]{64})$/i.exec(configured);
  return m ? Buffer.from(m[1], 'hex') : secretDigest(configured);
}

/** `*` matches any run of characters; everything else is literal. */
export function globMatcher(patterns: string[]): (s: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`));
  return (s) => res.some((r) => r.test(s));
}

/** The agent principals of collector.yaml's agent_tokens: a plain string may send as any agent to any (non-reserved) dataset. */
export function agentPrincipals(tokens: AgentTokenConfig[]): Array<{ digest: Buffer; principal: AgentPrincipal }> {
  return tokens.map((t, i) =>
    typeof t === 'string'
      ? { digest: tokenDigest(t), principal: { kind: 'agent', name: `agent_tokens[${i}]`, agents: ['*'], datasets: ['*'], maxDataStreams: DEFAULT_MAX_DATA_STREAMS, idNamespace: 'agent_tokens' } }
      : { digest: tokenDigest(t.token), principal: { kind: 'agent', name: t.name, agents: t.agents, datasets: t.datasets, maxDataStreams: t.max_data_streams, idNamespace: `token:${t.name}` } },
  );
}

/** The API principals: api.tokens, and the older admin_tokens / viewer_tokens lists (every team). */
export function apiPrincipals(api: { tokens?: ApiTokenConfig[]; admin_tokens?: string[]; viewer_tokens?: string[] }): Array<{ digest: Buffer; principal: ApiPrincipal }> {
  return [
    ...(api.tokens ?? []).map((t) => ({ digest: tokenDigest(t.token), principal: { kind: 'api' as const, name: t.name, role: t.role, teams: t.teams } })),
    ...(api.admin_tokens ?? []).map((t, i) => ({ digest: tokenDigest(t), principal: { kind: 'api' as const, name: `admin_tokens[${i}]`, role: 'admin' as const } })),
    ...(api.viewer_tokens ?? []).map((t, i) => ({ digest: tokenDigest(t), principal: { kind: 'api' as const, name: `viewer_tokens[${i}]`, role: 'viewer' as const } })),
  ];
}

export type Authentication<P> = { result: 'ok'; principal: P } | { result: 'missing' } | { result: 'invalid' };

/**
 * Finds the principal of a request's bearer token. Every configured digest is compared (in
 * constant time, whatever matched), so timing tells neither which token nor how many.
 */
export function principalFinder<P extends Principal>(entries: Array<{ digest: Buffer; principal: P }>): (req: Request) => Authentication<P> {
  return (req) => {
    const given = bearerToken(req);
    if (given === undefined) return { result: 'missing' };
    const digest = secretDigest(given);
    let found: P | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, digest) && !found) found = e.principal;
    return found ? { result: 'ok', principal: found } : { result: 'invalid' };
  };
}

export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Whether a principal may see an incident (or data) of `team` (undefined: an incident of no team). */
export function seesTeam(p: ApiPrincipal, team: string | undefined): boolean {
  if (!p.teams) return true;
  return team !== undefined && p.teams.includes(team);
}

/** Names that repeat across api.tokens and agent_tokens would make the audit trail ambiguous. */
export function duplicateNames(names: string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const n of names) (seen.has(n) ? twice : seen).add(n);
  return [...twice];
}
