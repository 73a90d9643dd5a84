import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { agentPrincipals, apiPrincipals, globMatcher, principalFinder, seesTeam, tokenDigest } from './principals.js';
import { RateLimiter } from './rate-limit.js';

const req = (authorization?: string) => ({ headers: { authorization } }) as unknown as Request;

describe('principals', () => {
  const clear = 'a-clear-token-of-some-length';
  const hashed = 'another-token-only-its-digest-is-configured';
  const digest = `sha256:${createHash('sha256').update(hashed).digest('hex')}`;
  const find = principalFinder(
    apiPrincipals({ tokens: [{ name: 'ops', token: digest, role: 'operator', teams: ['pos'] }], admin_tokens: [clear], viewer_tokens: [] }),
  );

  it('finds the principal of a clear or a hashed token; a wrong, missing or malformed header is not one', () => {
    expect(find(req(`Bearer ${clear}`))).toEqual({ result: 'ok', principal: { kind: 'api', name: 'admin_tokens[0]', role: 'admin' } });
    expect(find(req(`bearer ${hashed}`))).toMatchObject({ result: 'ok', principal: { name: 'ops', role: 'operator', teams: ['pos'] } });
    expect(find(req(`Bearer ${digest}`)).result).toBe('invalid'); // the digest itself is no token
    expect(find(req(`Bearer ${clear}x`)).result).toBe('invalid');
    expect(find(req()).result).toBe('missing');
    expect(find(req(`Basic ${clear}`)).result).toBe('missing');
  });

  it('a plain agent token may send as any agent; a named one only as its agents', () => {
    const [plain, named] = agentPrincipals(['x'.repeat(16), { name: 'pos-fleet', token: 'y'.repeat(16), agents: ['pos-*'], datasets: ['pos'], max_data_streams: 5 }]);
    expect(plain.principal).toMatchObject({ name: 'agent_tokens[0]', agents: ['*'], datasets: ['*'] });
    expect(named.principal).toMatchObject({ name: 'pos-fleet', maxDataStreams: 5 });
    expect(named.digest.equals(tokenDigest('y'.repeat(16)))).toBe(true);
    // Event ids are namespaced by this: reordering or rotating plain tokens must not change them.
    const [first, second] = agentPrincipals(['p'.repeat(16), 'q'.repeat(16)]);
    expect(first.principal.idNamespace).toBe(second.principal.idNamespace);
    expect(named.principal.idNamespace).not.toBe(plain.principal.idNamespace);
  });

  it('globs: * is any run of characters, everything else literal', () => {
    const m = globMatcher(['pos-*', 'kiosk.1']);
    expect(['pos-1', 'pos-', 'kiosk.1'].map(m)).toEqual([true, true, true]);
    expect(['pos', 'xpos-1', 'kiosk-1', 'kiosk.10'].map(m)).toEqual([false, false, false, false]);
    expect(globMatcher(['*'])('anything')).toBe(true);
  });

  it('team scope: an unscoped principal sees every team; a scoped one its own, never team-less incidents', () => {
    expect(seesTeam({ kind: 'api', name: 'a', role: 'viewer' }, undefined)).toBe(true);
    const scoped = { kind: 'api' as const, name: 'b', role: 'viewer' as const, teams: ['pos'] };
    expect([seesTeam(scoped, 'pos'), seesTeam(scoped, 'payments'), seesTeam(scoped, undefined)]).toEqual([true, false, false]);
  });
});

describe('RateLimiter', () => {
  it('lets a burst through, then one request per 1/rate seconds, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ per_second: 2, burst: 3 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBeCloseTo(0.5);
    expect(limiter.take('b')).toBe(0); // another caller is not slowed
    now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.exhausted('a')).toBeGreaterThan(0);
    now += 10_000;
    expect(limiter.exhausted('a')).toBe(0);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a') > 0]).toEqual([0, 0, 0, true]); // refilled to the burst, no more
  });
});
