import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type WireEvent } from '@stacklens/common';
import { Shipper } from './shipper.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A collector stand-in that counts requests and answers with `status`. */
async function collector(status: number, headers: Record<string, string> = {}): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(status === 200 ? '{"indexed":1,"duplicates":0,"dead_lettered":0,"errors":[]}' : '{"error":"x"}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits };
}

const events = [JSON.stringify({ id: 'a', dataset: 'app', namespace: 'default', doc: { message: 'm' } } satisfies WireEvent)];
const agent = { id: 't', hostname: 'h', version: '0' };
const log = createLogger('test', 'silent');

describe('Shipper', () => {
  it('spreads batches over several collectors, one after the other', async () => {
    const a = await collector(200);
    const b = await collector(200);
    const shipper = new Shipper({ urls: [a.url, b.url], token: 't', timeoutMs: 5000, agent }, log);
    for (let i = 0; i < 6; i++) await shipper.ship(events);
    expect([a.hits(), b.hits()]).toEqual([3, 3]);
    shipper.stop();
  });

  it('retries on 503, honouring Retry-After, until acknowledged — never drops the batch', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        if (calls < 3) {
          res.writeHead(503, { 'retry-after': '1' });
          res.end('{"error":"busy"}');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"indexed":1,"duplicates":0,"dead_lettered":0,"errors":[]}');
        }
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const shipper = new Shipper({ urls: [`http://127.0.0.1:${(server.address() as { port: number }).port}`], token: 't', timeoutMs: 5000, agent }, log);
    const started = Date.now();
    const ack = await shipper.ship(events);
    expect(ack.indexed).toBe(1);
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000); // two Retry-After: 1 waits
    expect(shipper.retries).toBe(2);
    shipper.stop();
  });

  it('a batch the collector refuses (400) is split until the refused event is alone; that one goes as a dead letter, the rest is delivered', async () => {
    const received: WireEvent[] = [];
    let requests = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        requests++;
        const batch = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as { events: WireEvent[] };
        // This collector refuses any batch holding the poison event as it is.
        if (batch.events.some((e) => e.doc.message === 'poison' && !e.error)) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end('{"error":"events[0]: bad"}');
        }
        received.push(...batch.events);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ indexed: batch.events.length, duplicates: 0, dead_lettered: 0, errors: [] }));
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const shipper = new Shipper({ urls: [`http://127.0.0.1:${(server.address() as { port: number }).port}`], token: 't', timeoutMs: 5000, agent }, log);
    const batch: WireEvent[] = Array.from({ length: 16 }, (_, i) => ({ id: `e${i}`, dataset: 'app', namespace: 'default', doc: { message: i === 11 ? 'poison' : `ok ${i}` } }));
    await shipper.ship(batch.map((e) => JSON.stringify(e)));
    expect(received.map((e) => e.id).sort()).toEqual(batch.map((e) => e.id).sort());
    const dead = received.find((e) => e.id === 'e11')!;
    expect(dead.error).toEqual({ type: 'collector.refused', message: 'collector answered 400: {"error":"events[0]: bad"}' });
    expect(dead.raw).toBe('poison');
    expect(requests).toBeLessThanOrEqual(1 + 2 * 4 + 1); // log2(16) levels of halving, then the dead letter
    expect(shipper.refused).toBe(1);
    shipper.stop();
  });

  it('sends the event texts it is given as one JSON batch, the agent beside them', async () => {
    const c = await collector(200);
    const shipper = new Shipper({ urls: [c.url], token: 't', timeoutMs: 5000, agent }, log);
    const texts = [events[0], JSON.stringify({ id: 'b', dataset: 'app', namespace: 'default', doc: { message: 'quote " and \\ and \u2028' } })];
    const sent = JSON.parse(gunzipSync(await shipper.encode(texts)).toString()) as { agent: unknown; events: WireEvent[] };
    expect(sent.agent).toEqual(agent);
    expect(sent.events).toEqual(texts.map((t) => JSON.parse(t)));
    shipper.stop();
  });
});
