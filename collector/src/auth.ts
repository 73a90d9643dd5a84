// Agent authentication: `Authorization: Bearer <token>` against the configured agent tokens.
// Compared as SHA-256 digests with timingSafeEqual, so neither content nor length leaks.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireBearerToken(tokens: string[], realm: string): RequestHandler {
  const allowed = tokens.map(digest);
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match) {
      const given = digest(match[1]);
      let ok = false;
      for (const t of allowed) ok = timingSafeEqual(t, given) || ok;
      if (ok) return next();
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    res.status(401).json({ error: match ? 'invalid agent token' : 'missing agent token (Authorization: Bearer <token>)' });
  };
}
