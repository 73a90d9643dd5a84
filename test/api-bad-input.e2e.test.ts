// Bad input to the API gets a 400 that names it, never a 500 (#13, defects 5 and 8), and one
// long message never hides other search results. Real collector CLI, real Elasticsearch.
import { describe, expect, it, inject, beforeAll } from 'vitest';
import { esClient, startCollector, tempDir, uniqueNamespace, type CollectorHandle, waitFor } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const ADMIN = 'admin-token-bad-input-0123456789';
const VIEWER = 'viewer-token-bad-input-012345678';
let collector: CollectorHandle;

beforeAll(async () => {
  collector = await startCollector(esUrl, {
    dir: tempDir(),
    extra: `api:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\n`,
    env: { STACKLENS_SECRET_KEY: 'a'.repeat(64) },
  });
  return () => collector.stop('SIGKILL');
});

const get = (path: string, token = VIEWER) => fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
const send = (method: string, path: string, body: unknown, token = ADMIN) =>
  fetch(`${collector.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('bad input to the API', () => {
  it('answers 400 naming the parameter for crafted cursors, absurd times and silences far in the future', async () => {
    const cases: [string, Promise<Response>, RegExp][] = [
      ['made-up search cursor', get(`/api/search?q=x&search_after=${b64({ pit: 'bm90IGEgcGl0', sort: ['2024-01-01T00:00:00Z', 1] })}`), /search_after/],
      ['cursor of the wrong shape', get(`/api/search?q=x&search_after=${b64({ pit: 'x', sort: [{ a: 1 }, 'b', 3] })}`), /search_after/],
      ['junk search cursor', get('/api/search?q=x&search_after=%%%'), /search_after/],
      ['from=now-1e30d', get('/api/search?q=x&from=now-1e30d'), /from/],
      ['from=now-99999999999d', get('/api/search?q=x&from=now-99999999999d'), /from/],
      ['to=-271821-04-20', get('/api/search?q=x&to=-271821-04-20'), /to/],
      ['incidents: junk after', get(`/api/incidents?after=${b64({ a: 1 })}`), /after/],
      ['incidents: after with objects', get(`/api/incidents?after=${b64([{ x: 1 }, 'y'])}`), /after/],
      ['incidents: to far away', get('/api/incidents?to=275760-09-13'), /to/],
      ['silence until far in the future', send('POST', '/api/silences', { rule: 'r', reason: 'x', until: '+275760-09-13T00:00:00Z' }), /until/],
      ['silence with an endless duration', send('POST', '/api/silences', { rule: 'r', reason: 'x', duration: '99999999999d' }), /duration/],
      ['integration type __proto__', send('POST', '/api/admin/integrations', { type: '__proto__', settings: {} }), /type: must be one of/],
      ['integration type constructor', send('POST', '/api/admin/integrations', { type: 'constructor', settings: {} }), /type: must be one of/],
      ['a silence with no labels at all', send('POST', '/api/silences', { labels: {}, reason: 'x', duration: '1h' }), /labels: must name at least one label/],
      ['a silence labelled __proto__', fetch(`${collector.url}/api/silences`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"labels":{"__proto__":"x"},"reason":"x","duration":"1h"}' }), /labels/],
      ['a search of thousands of words', get(`/api/search?q=${encodeURIComponent('a '.repeat(3000))}`), /q: at most/],
    ];
    for (const [what, pending, message] of cases) {
      const res = await pending;
      const body = await res.json();
      expect([what, res.status], JSON.stringify(body)).toEqual([what, 400]);
      expect(body.error, what).toMatch(message);
    }
  });

  it('a message over a million characters does not hide the other hits of its shard; highlighting is bounded', async () => {
    const ns = uniqueNamespace();
    const index = `logs-chatbot-${ns}`;
    const word = `needle${ns}`;
    const huge = `${word} ${'x'.repeat(1_030_000)} tail`;
    await es.bulk({
      refresh: true,
      operations: [
        { create: { _index: index } },
        { '@timestamp': '2024-11-16T10:00:00Z', message: huge, data_stream: { type: 'logs', dataset: 'chatbot', namespace: ns } },
        { create: { _index: index } },
        { '@timestamp': '2024-11-16T10:00:01Z', message: `a short ${word}`, data_stream: { type: 'logs', dataset: 'chatbot', namespace: ns } },
      ],
    });
    const res = await get(`/api/search?q=${word}&source=chatbot`);
    expect(res.status).toBe(200);
    const page = await res.json();
    expect(page.total).toBe(2);
    // The long one comes back cut to its head (a page of such hits must not be gigabytes), saying so.
    expect(page.hits.map((h: any) => h.message_length ?? h.message.length).sort((a: number, b: number) => a - b)).toEqual([`a short ${word}`.length, huge.length]);
    expect(page.hits.find((h: any) => h.message_truncated)).toMatchObject({ message_length: huge.length });
    expect(page.hits.find((h: any) => h.message_truncated).message.length).toBe(32 * 1024);
    expect(page.hits.find((h: any) => h.message.startsWith('a short')).highlight).toEqual([`a short <mark>${word}</mark>`]);
    expect(page.partial).toBeUndefined();
  });

  it('a stored secret that cannot be opened any more (key changed) answers 409 naming the key, not 500', async () => {
    const created = await send('POST', '/api/admin/integrations', { type: 'openai', settings: { api_key: 'sk-test-0123456789abcdef0123', base_url: 'http://127.0.0.1:9/v1', model: 'm' } });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = await created.json();
    // The collector restarts with another STACKLENS_SECRET_KEY.
    await collector.stop();
    const again = await startCollector(esUrl, {
      dir: tempDir(),
      port: collector.port,
      extra: `api:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\n`,
      env: { STACKLENS_SECRET_KEY: 'b'.repeat(64) },
    });
    try {
      const res = await send('PUT', `/api/admin/integrations/${id}`, { settings: { model: 'other' } });
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(body.error).toMatch(/settings\.api_key: .*supply api_key again/);
      await waitFor('still healthy', async () => (await fetch(`${collector.url}/healthz`)).ok);
    } finally {
      await again.stop('SIGKILL');
      await collector.restart();
    }
  });
});
