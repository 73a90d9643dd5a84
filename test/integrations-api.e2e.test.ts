// The integration admin API: credentials sealed at rest, never returned or logged; a
// connection test recorded; an integration made at run time files tickets without a restart.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, api, missingPrice, startStack } from './stack.js';
import { FakeJira, FakeMattermost, FakeOpenAi, FakeSlack, FakeXero } from './fakes/index.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const JIRA_TOKEN = ['jira', 'token', randomBytes(6).toString('hex')].join('-');
const OPENAI_KEY = ['sk', 'test', randomBytes(8).toString('hex')].join('-');
const XERO_SECRET = ['xero', 'secret', randomBytes(6).toString('hex')].join('-');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const xero = new FakeXero('stacklens-client', XERO_SECRET, 'tenant-7');
const KEY = randomBytes(32).toString('base64');

beforeAll(async () => {
  await Promise.all([jira.start(), llm.start(), xero.start()]);
});
afterAll(async () => {
  await Promise.all([jira.stop(), llm.stop(), xero.stop()]);
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

const rule = `name: pos-missing-price\nseverity: critical\ndataset: pos\nnamespace: $NS\nfilter:\n  error.type: MISSING_PRICE\ntype: any\ngroup_by: [pos.store_id]\nlabels: { error_type: MISSING_PRICE }\nnotify: [jira]\n`;

describe('/api/admin/integrations', () => {
  it('stores credentials sealed, never returns or logs them, tests connections, and applies changes without a restart', async () => {
    const s = await startStack(esUrl, running, { 'missing-price.yml': rule }, { env: { STACKLENS_SECRET_KEY: KEY } });
    const c = s.collectors[0];
    const path = '/admin/integrations';
    expect((await api(c, path, { token: VIEWER })).status).toBe(403);
    expect((await api(c, path, { token: '' })).status).toBe(401);

    const bad = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'jira', settings: { url: 'not a url', email: 'a@b', api_token: JIRA_TOKEN, project: 'OPS' } }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('settings.url: must be an http:// or https:// URL');
    expect((await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'pagerduty', settings: {} }) })).body.error).toMatch(/^type: must be one of jira, openai, xero/);

    const created = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'jira', name: 'ops jira', settings: { url: jira.url, email: 'oncall@example.com', api_token: 'wrong-token-at-first', project: 'OPS' } }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'jira', name: 'ops jira', enabled: true, secrets_set: ['api_token'], settings: { project: 'OPS', issue_type: 'Bug' } });
    const id = created.body.id;

    const failed = await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' });
    expect(failed.status).toBe(502);
    expect(failed.body.last_test).toMatchObject({ ok: false });
    expect(failed.body.last_test.message).toMatch(/Jira refused the request \(401\)/);

    // Replace the token only: the other settings stay.
    const fixed = await api(c, `${path}/${id}`, { method: 'PUT', body: JSON.stringify({ settings: { url: jira.url, email: 'oncall@example.com', api_token: JIRA_TOKEN, project: 'OPS' } }) });
    expect(fixed.status).toBe(200);
    const ok = await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' });
    expect(ok.status).toBe(200);
    expect(ok.body.last_test.message).toBe('authenticated as oncall@example.com on Jira 1001.0.0 (Cloud)');

    const openai = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'openai', settings: { base_url: llm.url, api_key: OPENAI_KEY, model: 'gpt-4o-mini' } }) });
    expect((await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test.message).toBe('model gpt-4o-mini available');
    const xeroI = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'xero', settings: { client_id: 'stacklens-client', client_secret: XERO_SECRET, tenant_id: 'tenant-7', base_url: `${xero.url}/api.xro/2.0`, token_url: `${xero.url}/connect/token` } }) });
    expect((await api(c, `${path}/${xeroI.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test.message).toBe('token obtained; organisation Demo Company (Global)');

    // The integration made at run time files the ticket (collector.yaml has no integrations).
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store, 999)]);
    const [ticket] = await waitFor('the ticket', async () => {
      const t = jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`));
      return t.length ? t : undefined;
    }, 30_000, 200).catch(async (err) => {
      throw new Error(`${err.message}\noutbox: ${JSON.stringify((await api(c, '/outbox', { token: VIEWER })).body)}\nincidents: ${JSON.stringify((await api(c, '/incidents', { token: VIEWER })).body.incidents.map((i: any) => i.timeline))}\n${c.proc.output}`);
    });
    expect(JSON.stringify(ticket.fields.description)).toContain("Xero lists item 999 'Mystery Product' at 4.50");

    // Disable → enable round trip; delete.
    expect((await api(c, `${path}/${openai.body.id}/disable`, { method: 'POST', body: '{}' })).body.enabled).toBe(false);
    expect((await api(c, `${path}/${openai.body.id}/enable`, { method: 'POST', body: '{}' })).body.enabled).toBe(true);
    expect((await api(c, `${path}/${openai.body.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(c, `${path}/${openai.body.id}`)).status).toBe(404);

    // No secret in any answer, in the collector's log, or in plain text in Elasticsearch.
    const answers = JSON.stringify([created, failed, fixed, ok, openai, xeroI, await api(c, path), await api(c, `${path}/${id}`)]);
    const stored = JSON.stringify((await es.search({ index: 'stacklens-integrations', size: 50 })).hits.hits);
    for (const secret of [JIRA_TOKEN, OPENAI_KEY, XERO_SECRET, KEY]) {
      expect(answers).not.toContain(secret);
      expect(c.proc.output).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    expect(stored).toContain('v1:');
  });

  it('answers 503 with the reason when no encryption key is set', async () => {
    const s = await startStack(esUrl, running, { 'missing-price.yml': rule });
    const res = await api(s.collectors[0], '/admin/integrations', { token: ADMIN });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/STACKLENS_SECRET_KEY is not set/);
  });

  it('Slack and Mattermost integrations: sealed (workspace tokens too), connection-tested, and the signing secret in force at once', async () => {
    const botToken = ['xoxb', randomBytes(8).toString('hex')].join('-');
    const secondToken = ['xoxb', randomBytes(8).toString('hex')].join('-');
    const signing = randomBytes(16).toString('hex');
    const mmToken = randomBytes(13).toString('hex');
    const slack = new FakeSlack(botToken);
    const mattermost = new FakeMattermost(mmToken);
    await Promise.all([slack.start(), mattermost.start()]);
    try {
      const s = await startStack(esUrl, running, { 'missing-price.yml': rule }, { env: { STACKLENS_SECRET_KEY: KEY } });
      const c = s.collectors[0];
      const path = '/admin/integrations';
      // Before: no Slack, so no Slack endpoint.
      expect((await slack.command(c.url, signing, { text: 'help' })).status).toBe(404);
      const created = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'slack', settings: { bot_token: botToken, signing_secret: signing, api_url: `${slack.url}/api/`, workspaces: { T0SECOND01: { bot_token: secondToken } } } }) });
      expect(created.status).toBe(201);
      expect(created.body.secrets_set).toEqual(['bot_token', 'signing_secret', 'workspaces']);
      expect(created.body.settings).toMatchObject({ channel: '#oncall', api_url: `${slack.url}/api/` });
      expect((await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'slack', settings: { channel: '#x' } }) })).body.error).toBe('settings.bot_token: needs bot_token (or webhook_url for incoming-webhook mode)');
      const tested = await api(c, `${path}/${created.body.id}/test`, { method: 'POST', body: '{}' });
      expect(tested.body.last_test).toMatchObject({ ok: true, message: 'Slack: connected to StackLens Test as stacklens' });
      // The signing secret applies at once: signed commands are answered, others refused.
      const answered = await slack.command(c.url, signing, { text: 'help' });
      expect(answered.status).toBe(200);
      expect((await answered.json()).text).toContain('/stacklens incidents');
      expect((await slack.command(c.url, 'another-secret', { text: 'help' })).status).toBe(401);

      const mm = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'mattermost', settings: { url: mattermost.url, token: mmToken, team: 'ops', index_messages: false } }) });
      expect(mm.status).toBe(201);
      expect(mm.body.secrets_set).toEqual(['token']);
      expect((await api(c, `${path}/${mm.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test).toMatchObject({ ok: true, message: 'Mattermost: connected as stacklens, team Ops' });

      const answers = JSON.stringify([created, tested, mm, await api(c, path)]);
      const stored = JSON.stringify((await es.search({ index: 'stacklens-integrations', size: 50 })).hits.hits);
      for (const secret of [botToken, secondToken, signing, mmToken]) {
        expect(answers).not.toContain(secret);
        expect(c.proc.output).not.toContain(secret);
        expect(stored).not.toContain(secret);
      }
      for (const id of [created.body.id, mm.body.id]) expect((await api(c, `${path}/${id}`, { method: 'DELETE' })).status).toBe(200);
    } finally {
      await Promise.all([slack.stop(), mattermost.stop()]);
    }
  });
});
