// What the agent does at the edge, through its CLI: redaction before shipping, and /metrics.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { allDocs, count, esClient, freePort, sleep, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';

const es = esClient(inject('esUrl'));
let collector: CollectorHandle;
let agent: AgentHandle;
let metricsUrl: string;
const ns = uniqueNamespace();
const index = `logs-pos-${ns}`;
const CARD = '4111 1111 1111 1111'; // a standard test card number
const FAKE_TOKEN = `fake-${'t'.repeat(26)}`;
const FAKE_PASSWORD = 'not-a-real-password';
const FAKE_PASSWORD_2 = 'another-fake-password';
const lines = [
  `[2024-11-16T10:30:00Z] [ERROR] Payment declined for card ${CARD} | {"orderId":"ORD-123456","storeNumber":"STORE_001","kioskNumber":"KIOSK_001","errorType":"PAYMENT_FAILED"}`,
  `[2024-11-16T10:30:01Z] [INFO] Gateway call with Authorization: Bearer ${FAKE_TOKEN} | {"storeNumber":"STORE_001"}`,
  `[2024-11-16T10:30:02Z] [WARNING] Login retry password=${FAKE_PASSWORD} for ana@example.com | {"storeNumber":"STORE_002"}`,
  '[2024-11-16T10:30:03Z] [INFO] Order completed | {"orderId":"ORD-4111111111111112","storeNumber":"STORE_003"}',
  `not a pos line with password=${FAKE_PASSWORD_2}`,
];

beforeAll(async () => {
  collector = await startCollector(inject('esUrl'));
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  agent = startAgent(
    dir,
    `id: edge-${ns}\nstate_dir: ./state\ncollector:\n  url: ${collector.url}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  flush_interval: 100ms\nmetrics:\n  listen: 127.0.0.1:${port}\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n    redact:\n      emails: true\n`,
    { TEST_AGENT_TOKEN: collector.token, STACKLENS_LOG_LEVEL: 'debug' },
  );
  appendFileSync(join(dir, 'logs', 'pos.log'), lines.map((l) => `${l}\n`).join(''));
  await waitFor('4 documents', async () => (await count(es, index)) >= 4, 30_000);
  await sleep(500);
});

afterAll(async () => {
  await agent.stop('SIGKILL');
  await collector.stop('SIGKILL');
});

describe('agent at the edge', () => {
  it('masks card numbers, bearer tokens, passwords and e-mails before shipping; leaves order ids alone', async () => {
    const docs = (await allDocs(es, index)).map((d) => d._source).sort((a, b) => a.log.offset - b.log.offset);
    expect(docs.map((d) => d.message)).toEqual([
      'Payment declined for card [REDACTED-CARD-1111]',
      'Gateway call with Authorization: Bearer [REDACTED]',
      'Login retry password=[REDACTED] for a***@example.com',
      'Order completed',
    ]);
    expect(docs[3].pos.order_id).toBe('ORD-4111111111111112'); // fails Luhn: not a card
    const dead = await allDocs(es, 'logs-stacklens.deadletter-default', { term: { 'agent.id': `edge-${ns}` } });
    expect(dead.map((d) => d._source.event.original)).toEqual(['not a pos line with password=[REDACTED]']);
    const everything = JSON.stringify([docs, dead]);
    for (const secret of [CARD, FAKE_TOKEN, FAKE_PASSWORD, 'ana@example.com', FAKE_PASSWORD_2]) {
      expect(everything).not.toContain(secret);
      expect(agent.proc.output).not.toContain(secret);
    }
  });

  it('serves Prometheus metrics: lines, bytes, acks, redactions by kind, open files and lag', async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(' ')[1]);
    };
    expect(value('stacklens_agent_lines_read_total{input="0",dataset="pos"}')).toBe(5);
    expect(value('stacklens_agent_parse_errors_total{input="0",dataset="pos"}')).toBe(1);
    expect(value('stacklens_agent_read_bytes_total{input="0",dataset="pos"}')).toBe(lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
    expect(value('stacklens_agent_events_acked_total')).toBe(5);
    expect(value('stacklens_agent_redactions_total{kind="card_numbers"}')).toBe(1);
    expect(value('stacklens_agent_redactions_total{kind="bearer_tokens"}')).toBe(1);
    expect(value('stacklens_agent_redactions_total{kind="passwords"}')).toBe(2);
    expect(value('stacklens_agent_redactions_total{kind="emails"}')).toBe(1);
    expect(value('stacklens_agent_open_files')).toBe(1);
    expect(value('stacklens_agent_errors_total{stage="harvest"}')).toBe(0);
    expect(value('stacklens_agent_pending_events')).toBe(0);
    expect(text).toMatch(/stacklens_agent_file_lag_bytes\{path=".*pos\.log"\} 0/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toContain(FAKE_PASSWORD);
  });
});
