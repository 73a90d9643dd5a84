// Property test of the collector's API against a real collector and Elasticsearch (#13):
// random query strings and bodies into /api/search, /api/incidents, /api/outbox,
// /api/silences and /api/admin/integrations never get a 500, always get JSON, and the
// collector keeps answering /healthz. Seeded (STACKLENS_FUZZ_SEED / _RUNS).
import fc from 'fast-check';
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { startCollector, tempDir, type CollectorHandle } from './helpers.js';

const SEED = Number(process.env.STACKLENS_FUZZ_SEED ?? 20261201);
const RUNS = Math.min(Number(process.env.STACKLENS_FUZZ_RUNS ?? 150), 5000);
const ADMIN = 'admin-token-fuzz-0123456789abcdef';
let collector: CollectorHandle;

beforeAll(async () => {
  collector = await startCollector(inject('esUrl'), {
    dir: tempDir(),
    extra: `api:\n  admin_tokens: ["${ADMIN}"]\n`,
    env: { STACKLENS_SECRET_KEY: 'c'.repeat(64) },
  });
  return () => collector.stop('SIGKILL');
});

const hostileText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('now-1e30d', 'now-99999999999d', '-271821-04-20', '+275760-09-13', 'NaN', '__proto__', 'constructor', '%%%', '"a"', '*', '(', 'a | b -c "d', '\u0000', 'x'.repeat(5000)),
  fc.json().map((j) => Buffer.from(j).toString('base64url')),
);
const params = (names: string[]) => fc.dictionary(fc.constantFrom(...names, 'unknown'), hostileText, { maxKeys: 4 }).map((d) => new URLSearchParams(d).toString());
const body = fc.oneof(fc.anything(), fc.json().map((j) => JSON.parse(j)), fc.record({ type: hostileText, settings: fc.anything(), name: fc.anything(), rule: fc.anything(), reason: hostileText, until: hostileText, duration: hostileText, labels: fc.anything() }, { requiredKeys: [] }));

async function expectHandled(res: Response, what: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status >= 400) {
    // A refusal says why: { error } — or { errors: [...] } for a rules reload that found bad files.
    const answer = JSON.parse(text);
    expect(typeof answer.error === 'string' || Array.isArray(answer.errors), `${what} → ${text.slice(0, 300)}`).toBe(true);
  }
}

describe('fuzzing the API', () => {
  it('GET with random query strings: never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/search', '/api/incidents', '/api/outbox', '/api/silences', '/api/rules', '/api/admin/integrations'), params(['q', 'source', 'channel', 'user', 'from', 'to', 'size', 'search_after', 'after', 'status', 'severity', 'rule', 'group_key', 'incident']), async (path, qs) => {
        const res = await fetch(`${collector.url}${path}?${qs}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        await expectHandled(res, `GET ${path}?${qs}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('POST/PUT with random bodies: never a 500, and /healthz keeps answering within a second', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST /api/silences', 'POST /api/admin/integrations', 'PUT /api/admin/integrations/x', 'POST /api/incidents/x/ack', 'POST /api/rules/reload'), body, async (route, b) => {
        const [method, path] = route.split(' ');
        const res = await fetch(`${collector.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(b) ?? 'null' });
        await expectHandled(res, `${route} ${JSON.stringify(b)?.slice(0, 200)}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const started = performance.now();
    expect((await fetch(`${collector.url}/healthz`)).ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
