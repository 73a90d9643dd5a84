// #14: API principals — roles (viewer < operator < admin), team scopes, hashed tokens, the
// audit trail and rate limits — tried through the real collector CLI as an attacker would:
// each crossing refused (status, and nothing changed), the legitimate action still working,
// and an audit record written for both.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { REPO, esClient, startCollector, tempDir, uniqueNamespace, waitFor, type CollectorHandle } from './helpers.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const secret = (who: string) => `${who}-${randomBytes(16).toString('hex')}`;
const sha = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
const ROOT = secret('root');
const POS_OPERATOR = secret('pos-op');
const POS_VIEWER = secret('pos-view');
const VIEWER = secret('viewer');
const LEGACY_ADMIN = secret('legacy-admin');
const POS_ADMIN = secret('pos-admin');
let collector: CollectorHandle;
let ns: string;
const started = new Date().toISOString();

const rule = (name: string, team: string) => `name: ${name}
description: Products sold without a price (${team})
severity: critical
dataset: pos
namespace: ${ns}
filter:
  error.type: MISSING_PRICE
type: any
group_by: [pos.store_id]
realert: 10m
labels:
  team: ${team}
`;

const call = async (path: string, token: string, init: RequestInit = {}) => {
  const res = await fetch(`${collector.url}${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) };
};
const post = (path: string, token: string, body: unknown = {}) => call(path, token, { method: 'POST', body: JSON.stringify(body) });

/** The audit records matching a query, once at least `min` are there. */
const audit = (query: string, min = 1, until: (records: any[]) => boolean = () => true) =>
  waitFor(`audit records for ${query}`, async () => {
    // This run's records only: the audit stream outlives collectors.
    const r = await call(`/api/audit?${query}&from=${started}&size=200`, ROOT);
    return r.status === 200 && r.body.records.length >= min && until(r.body.records) ? (r.body.records as any[]) : undefined;
  }, 20_000, 200);

beforeAll(async () => {
  ns = uniqueNamespace();
  const dir = tempDir();
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, 'pos.yml'), rule(`mp-pos-${ns}`, 'pos'));
  writeFileSync(join(rulesDir, 'payments.yml'), rule(`mp-payments-${ns}`, 'payments'));
  collector = await startCollector(esUrl, {
    dir,
    rulesDir,
    extra: [
      'detection:\n  schedule: 500ms',
      'api:',
      '  admin_tokens: ["${LEGACY_ADMIN}"]',
      '  tokens:',
      `    - { name: root, token: "${sha(ROOT)}", role: admin }`,
      `    - { name: pos-operator, token: "${sha(POS_OPERATOR)}", role: operator, teams: [pos] }`,
      '    - { name: pos-viewer, token: "${POS_VIEWER}", role: viewer, teams: [pos] }',
      '    - { name: everyone-viewer, token: "${VIEWER}", role: viewer }',
      '    - { name: pos-admin, token: "${POS_ADMIN}", role: admin, teams: [pos] }',
      'chat:\n  teams:\n    pos:\n      datasets: [pos]\n      slack: { workspace: T0POSTEAM, channels: ["#pos-oncall"] }\n    payments:\n      datasets: [chatbot]',
      'rate_limits:\n  api: { per_second: 5, burst: 40 }\n  auth_failures: { per_second: 0.5, burst: 12 }\n  ingest: { per_second: 1, burst: 4 }\n  slack: { per_second: 1, burst: 5 }\n  mattermost: { per_second: 1, burst: 5 }',
      '',
    ].join('\n'),
    env: { LEGACY_ADMIN, POS_VIEWER, VIEWER, POS_ADMIN, STACKLENS_SECRET_KEY: '' },
  });
  // Two incidents from one line: one of team pos, one of team payments.
  const event = (i: number, dataset: string) => ({
    id: `sec-${ns}-${dataset}-${i}`,
    dataset,
    namespace: ns,
    doc: { '@timestamp': new Date().toISOString(), message: `Product #999 has no price ${ns}`, error: { type: 'MISSING_PRICE' }, pos: { store_id: 'STORE_001' } },
  });
  const res = await fetch(`${collector.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${collector.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: { id: `agent-${ns}`, hostname: 'h', version: 't' }, events: [event(1, 'pos'), event(2, 'chatbot')] }),
  });
  expect(res.status).toBe(200);
  await waitFor('two incidents', async () => (await call(`/api/incidents?rule=mp-pos-${ns},mp-payments-${ns}`, ROOT)).body?.total === 2, 30_000, 200);
});
afterAll(() => collector?.stop('SIGKILL'));

const incidentOf = async (team: string) => (await call(`/api/incidents?rule=mp-${team}-${ns}`, ROOT)).body.incidents[0];

describe('API principals', () => {
  it('a team-scoped token sees its team only: incidents, one incident, rules, search', async () => {
    const pos = await incidentOf('pos');
    const payments = await incidentOf('payments');
    const list = await call(`/api/incidents?rule=mp-pos-${ns},mp-payments-${ns}`, POS_VIEWER);
    expect(list.status).toBe(200);
    expect(list.body.incidents.map((i: any) => i.id)).toEqual([pos.id]);
    expect((await call(`/api/incidents/${pos.id}`, POS_VIEWER)).status).toBe(200);
    // Another team's incident is not even confirmed to exist.
    const hidden = await call(`/api/incidents/${payments.id}`, POS_VIEWER);
    expect(hidden.status).toBe(404);
    expect((await call(`/api/incidents/${payments.id}`, VIEWER)).status).toBe(200);
    const rules = await call('/api/rules', POS_VIEWER);
    expect(rules.body.rules.map((r: any) => r.name)).toEqual([`mp-pos-${ns}`]);
    // Search: the pos dataset is pos's; chatbot is payments'.
    await es.indices.refresh({ index: `logs-*-${ns}` });
    const word = ns;
    const scoped = await call(`/api/search?q=${word}`, POS_VIEWER);
    expect(scoped.status).toBe(200);
    expect(scoped.body.hits.map((h: any) => h.source)).toEqual(['pos']);
    const everything = await call(`/api/search?q=${word}`, VIEWER);
    expect(everything.body.hits.map((h: any) => h.source).sort()).toEqual(['chatbot', 'pos']);
    const refusal = (await audit(`action=incident.read&user=pos-viewer`)).find((r) => r.stacklens.audit.target === payments.id);
    expect(refusal).toMatchObject({ event: { outcome: 'failure', category: 'authorization' }, user: { name: 'pos-viewer', roles: ['viewer'] } });
  });

  it('a team-scoped search reads its team\'s chat channels in its workspace only, never chat-shaped fields an agent wrote', async () => {
    const word = `chatword${ns}`;
    const chatDoc = (id: string, team: string, channelId: string) => ({
      '@timestamp': new Date().toISOString(),
      message: `${word} from ${team}`,
      data_stream: { type: 'logs', dataset: 'chat', namespace: 'default' },
      chat: { platform: 'slack', type: 'message', message_id: id, team: { id: team }, channel: { id: channelId, name: 'pos-oncall' }, user: { id: 'U1', name: 'alice' }, deleted: false },
    });
    // As the Slack capture stores them: one in the team's workspace, one in another with a channel of the same name.
    for (const [id, team, channel] of [[`own-${ns}`, 'T0POSTEAM', 'C0POS'], [`other-${ns}`, 'T0ELSEWHERE', 'C0ELSE']]) {
      await es.index({ index: 'logs-chat-default', op_type: 'create', id, refresh: true, document: chatDoc(id, team, channel) });
    }
    // An agent allowed to write chatbot (payments' dataset) dressing a log line as pos's chat.
    const forged = { ...chatDoc(`forged-${ns}`, 'T0POSTEAM', 'C0POS'), data_stream: undefined };
    const sent = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${collector.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: { id: `agent-${ns}` }, events: [{ id: `forged-${ns}`, dataset: 'chatbot', namespace: ns, doc: forged }] }),
    });
    expect((await sent.json()).indexed).toBe(1);
    await es.indices.refresh({ index: `logs-chatbot-${ns}` });
    const scoped = await call(`/api/search?q=${word}`, POS_VIEWER);
    expect(scoped.body.hits.map((h: any) => h.chat?.team?.id + ':' + h.source)).toEqual(['T0POSTEAM:chat']);
    const all = await call(`/api/search?q=${word}`, VIEWER);
    expect(all.body.total).toBe(3);
  });

  it('a team-scoped admin may not read or change what every team shares: integrations, rules reload, the audit trail', async () => {
    for (const [method, path] of [['GET', '/api/admin/integrations'], ['POST', '/api/admin/integrations'], ['POST', '/api/rules/reload'], ['GET', '/api/audit'], ['GET', '/api/outbox']]) {
      const res = await call(path, POS_ADMIN, { method, body: method === 'POST' ? JSON.stringify({ type: 'slack', settings: { webhook_url: 'http://127.0.0.1:9/x' } }) : undefined });
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body.error).toMatch(/scoped to team pos/);
    }
    const refusals = await audit('action=auth.team_scope&user=pos-admin', 5);
    expect(refusals.map((r) => r.stacklens.audit.target).sort()).toEqual(['GET /api/admin/integrations/', 'GET /api/audit', 'GET /api/outbox', 'POST /api/admin/integrations/', 'POST /api/rules/reload']);
  });

  it('a silence another collector just made is judged from Elasticsearch, not this collector\'s cache', async () => {
    const id = `race-${ns}`;
    const now = Date.now();
    const silence = { id, rule: `mp-payments-${ns}`, starts_at: new Date(now).toISOString(), ends_at: new Date(now + 3_600_000).toISOString(), reason: 'made elsewhere', created_by: 'root', created_at: new Date(now).toISOString() };
    await es.index({ index: 'stacklens-silences', id, document: silence, refresh: true });
    expect((await call(`/api/silences/${id}`, POS_OPERATOR, { method: 'DELETE' })).status).toBe(404);
    expect((await es.get<any>({ index: 'stacklens-silences', id }))._source.ends_at).toBe(silence.ends_at);
    expect((await call(`/api/silences/${id}`, ROOT, { method: 'DELETE' })).status).toBe(200);
  });

  it('roles: a viewer cannot act, an operator acts on its team only, the audit trail names each', async () => {
    const pos = await incidentOf('pos');
    const payments = await incidentOf('payments');
    const viewerAck = await post(`/api/incidents/${pos.id}/ack`, POS_VIEWER);
    expect(viewerAck.status).toBe(403);
    expect(viewerAck.body.error).toMatch(/operator role/);
    const crossAck = await post(`/api/incidents/${payments.id}/ack`, POS_OPERATOR);
    expect(crossAck.status).toBe(404);
    expect((await incidentOf('payments')).status).toBe('open');
    const ack = await post(`/api/incidents/${pos.id}/ack`, POS_OPERATOR, { by: 'someone-else' });
    expect(ack.status).toBe(200);
    // A named principal is who acted, whatever the body claims.
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledged_by: 'pos-operator' });
    // Operators do not change configuration.
    expect((await post('/api/rules/reload', POS_OPERATOR)).status).toBe(403);
    expect((await call('/api/audit', POS_OPERATOR)).status).toBe(403);
    expect((await call('/api/admin/integrations', POS_OPERATOR)).status).toBe(403);

    const records = await audit('category=incident,authorization&user=pos-operator,pos-viewer', 3, (rs) => rs.some((r) => r.event.action === 'incident.acknowledge' && r.event.outcome === 'success'));
    const find = (user: string, action: string, outcome: string) => records.find((r) => r.user?.name === user && r.event.action.includes(action) && r.event.outcome === outcome);
    expect(find('pos-operator', 'incident.acknowledge', 'success')).toMatchObject({ stacklens: { audit: { target: pos.id, via: 'api' } }, source: { ip: '127.0.0.1' } });
    expect(find('pos-operator', 'incident.acknowledge', 'failure')).toMatchObject({ stacklens: { audit: { target: payments.id } } });
    expect(find('pos-viewer', 'auth.role', 'failure')).toMatchObject({ event: { reason: expect.stringMatching(/needs the operator role/) }, stacklens: { audit: { target: pos.id } } });
    // Never a token in the trail.
    expect(JSON.stringify(records)).not.toContain(POS_OPERATOR);
  });

  it('a team-scoped operator silences its own team only; silences of other teams are invisible to it', async () => {
    const other = await post('/api/silences', POS_OPERATOR, { rule: `mp-payments-${ns}`, reason: 'not mine', duration: '1h' });
    expect(other.status).toBe(403);
    const everything = await post('/api/silences', POS_OPERATOR, { group_key: 'pos.store_id=STORE_001', reason: 'all teams', duration: '1h' });
    expect(everything.status).toBe(403);
    const own = await post('/api/silences', POS_OPERATOR, { rule: `mp-pos-${ns}`, reason: 'deploying', duration: '1h' });
    expect(own.status).toBe(201);
    const byRoot = await post('/api/silences', ROOT, { rule: `mp-payments-${ns}`, reason: 'root', duration: '1h' });
    expect(byRoot.status).toBe(201);
    const seen = (await call('/api/silences', POS_VIEWER)).body.silences.map((s: any) => s.id);
    expect(seen).toContain(own.body.id);
    expect(seen).not.toContain(byRoot.body.id);
    expect((await call(`/api/silences/${byRoot.body.id}`, POS_OPERATOR, { method: 'DELETE' })).status).toBe(404);
    expect((await call('/api/silences', ROOT)).body.silences.map((s: any) => s.id)).toContain(byRoot.body.id);
    const created = await audit('action=silence.create&outcome=success', 2);
    expect(created.map((r) => r.user.name)).toEqual(expect.arrayContaining(['pos-operator', 'root']));
  });

  it('unknown and missing tokens: 401 and an audit record; the legacy admin token and the hashed root token work', async () => {
    const wrong = await call('/api/incidents', secret('guess'));
    expect(wrong.status).toBe(401);
    expect((await call('/api/incidents', '')).status).toBe(401);
    expect((await call('/api/rules', LEGACY_ADMIN)).status).toBe(200);
    expect((await post('/api/rules/reload', ROOT)).status).toBe(200);
    const failures = await audit('action=auth.token&outcome=failure', 2);
    const invalid = failures.find((r) => r.event.reason === 'invalid API token');
    expect(invalid).toMatchObject({ event: { category: 'authentication' }, url: { path: '/api/incidents' }, source: { ip: '127.0.0.1' } });
    expect(invalid.user).toBeUndefined();
    expect(failures.map((r) => r.event.reason)).toContain('missing API token (Authorization: Bearer <token>)');
    const reload = await audit('action=rules.reload');
    expect(reload[0].user.name).toBe('root');
  });
});

describe('rate limits', () => {
  it('an API principal over rate_limits.api gets 429 with Retry-After; others are not slowed', async () => {
    const answers = await Promise.all(Array.from({ length: 80 }, () => call('/api/rules', VIEWER)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited[0].body.limit).toBe('rate_limits.api');
    expect((await call('/api/rules', POS_VIEWER)).status).toBe(200);
  });

  it('ingest per agent token, /slack/* and /mattermost/* per address: 429 with Retry-After naming the limit', async () => {
    const ingest = () =>
      fetch(`${collector.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${collector.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent: { id: `agent-${ns}` }, events: [] }) });
    const statuses = [];
    for (let i = 0; i < 8; i++) {
      const res = await ingest();
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect((await res.json()).limit).toBe('rate_limits.ingest');
      } else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    for (const path of ['/slack/commands', '/mattermost/commands']) {
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push(await fetch(`${collector.url}${path}`, { method: 'POST', body: 'text=help' }));
      const limited = answers.find((a) => a.status === 429);
      expect(limited, path).toBeDefined();
      expect((await limited!.json()).limit).toBe(`rate_limits.${path.split('/')[1]}`);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('guessing tokens from one address is slowed down: 429 before the token is even checked', async () => {
    const guesses = [];
    for (let i = 0; i < 20; i++) guesses.push((await call('/api/incidents', secret('guess'))).status);
    expect(guesses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(guesses).toContain(429);
    // The right token from that address waits too: the guesser cannot tell a hit from the refusal.
    expect((await call('/api/rules', ROOT)).status).toBe(429);
  });
});

describe('configuration', () => {
  it('says at start that integrations stored through the API are not applied without STACKLENS_SECRET_KEY', () => {
    expect(collector.proc.output).toMatch(/integrations stored through \/api\/admin\/integrations are not applied.*STACKLENS_SECRET_KEY is not set/);
  });

  it('refuses short tokens, malformed digests and duplicate names, naming the key', async () => {
    const dir = tempDir();
    const file = join(dir, 'collector.yaml');
    const cases: [string, RegExp][] = [
      ['agent_tokens: ["x"]\n', /agent_tokens\[0\]: must be at least 16 characters/],
      [`agent_tokens: ["${'a'.repeat(20)}"]\napi:\n  tokens:\n    - { name: a, token: "sha256:1234", role: admin }\n`, /api\.tokens\[0\]\.token: .*sha256/],
      [`agent_tokens: ["${'a'.repeat(20)}"]\napi:\n  tokens:\n    - { name: a, token: "${'b'.repeat(20)}", role: root }\n`, /api\.tokens\[0\]\.role/],
      [`agent_tokens: [{ name: a, token: "${'c'.repeat(20)}" }]\napi:\n  tokens:\n    - { name: a, token: "${'b'.repeat(20)}", role: admin }\n`, /"a" is used twice/],
    ];
    for (const [yaml, message] of cases) {
      writeFileSync(file, `listen: 127.0.0.1:1\nelasticsearch:\n  url: http://127.0.0.1:1\n${yaml}`);
      const res = spawnSync(process.execPath, [join(REPO, 'collector/dist/cli.js'), '--config', file, '--check'], { encoding: 'utf8' });
      expect(res.status, yaml).not.toBe(0);
      expect(res.stderr, yaml).toMatch(message);
    }
  });
});
