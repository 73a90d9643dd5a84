// Bearer-token authentication (agents, API viewers, admins) against configured tokens.
// Compared as SHA-256 digests with timingSafeEqual, so neither content nor length leaks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A matcher for one set of tokens: 'missing' (no bearer header), 'ok' or 'invalid'. */
export function tokenChecker(tokens: string[]): (req: Request) => 'missing' | 'ok' | 'invalid' {
  const allowed = tokens.map(digest);
  return (req) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return 'missing';
    const given = digest(match[1]);
    let ok = false;
    for (const t of allowed) ok = timingSafeEqual(t, given) || ok;
    return ok ? 'ok' : 'invalid';
  };
}

/**
 * 401 unless the request carries one of `tokens`. When `readOnlyTokens` are given, such a
 * token is recognised and refused with 403 (it may read, not change).
 */
export function requireBearerToken(tokens: string[], realm: string, what = 'agent token', readOnlyTokens: string[] = []): RequestHandler {
  const check = tokenChecker(tokens);
  const readOnly = tokenChecker(readOnlyTokens);
  return (req, res, next) => {
    const result = check(req);
    if (result === 'ok') return next();
    if (result === 'invalid' && readOnlyTokens.length > 0 && readOnly(req) === 'ok') {
      res.status(403).json({ error: `this token may only read; changes need an ${what}` });
      return;
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    res.status(401).json({ error: result === 'invalid' ? `invalid ${what}` : `missing ${what} (Authorization: Bearer <token>)` });
  };
}
