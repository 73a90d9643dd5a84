// The integration admin API: credentials sealed at rest, never returned or logged; a
// connection test recorded; an integration made at run time files tickets without a restart.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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
    expect(failed.body.last_test.message).toBe('HTTP 401 from Jira (credentials refused)');

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
    // Sealed values are in the bound format (v2), none in the old unbound one.
    expect(stored).toContain('"v2:');
    expect(stored).not.toContain('"v1:');
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
      expect((await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'slack', settings: { channel: '#x' } }) })).body.error).toBe('settings.bot_token: needs bot_token (or webhook_url for incoming-webhook mode, or client_id to be installed through OAuth)');
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


/** An address that records everything sent to it (headers and bodies) and answers what it is told. */
class Capture {
  readonly requests: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  answer = { status: 401, type: 'application/json', body: '{}' };
  url = '';
  private server?: Server;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(this.answer.status, { 'content-type': this.answer.type });
        res.end(this.answer.body);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
  /** Everything it received, as one string to search for secrets. */
  seen(): string {
    return JSON.stringify(this.requests);
  }
}

/** The audit records of an action for a target, polled until `match` finds one. */
async function auditRecord(c: CollectorHandle, action: string, target: string, match: (r: any) => boolean): Promise<any> {
  return waitFor(`the ${action} audit record of ${target}`, async () => {
    const res = await api(c, `/audit?action=${action}&size=200`);
    if (res.status !== 200) throw new Error(`GET /api/audit: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body.records as any[]).find((r) => r.stacklens?.audit?.target === target && match(r));
  }, 20_000, 300);
}

describe('/api/admin/integrations: secrets stay write-only (issue #14)', () => {
  const path = '/admin/integrations';
  const stored = async (id: string) => (await es.get<any>({ index: 'stacklens-integrations', id }))._source;

  it('refuses a new destination without every stored secret (400, nothing changed, nothing sent there), allows it with them, and audits both', async () => {
    const evil = new Capture();
    const jira2 = new FakeJira('oncall@example.com', JIRA_TOKEN);
    await Promise.all([evil.start(), jira2.start()]);
    try {
      const s = await startStack(esUrl, running, { 'missing-price.yml': rule }, { env: { STACKLENS_SECRET_KEY: KEY } });
      const c = s.collectors[0];
      const created = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'jira', name: 'jira-main', settings: { url: jira.url, email: 'oncall@example.com', api_token: JIRA_TOKEN, project: 'OPS' } }) });
      expect(created.status).toBe(201);
      const id = created.body.id;
      const before = await stored(id);

      // The attack: only a new url; the stored token would follow it.
      const refused = await api(c, `${path}/${id}`, { method: 'PUT', body: JSON.stringify({ settings: { url: evil.url, email: 'oncall@example.com', project: 'OPS' } }) });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/settings\.url/);
      expect(refused.body.error).toMatch(/supply api_token/);
      expect(await stored(id)).toEqual(before);
      // A test still goes where the integration was, not to the new address.
      expect((await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' })).body.last_test).toMatchObject({ ok: true });
      // Another URL-valued setting counts as well; a non-destination change keeps the secret.
      expect((await api(c, `${path}/${id}`, { method: 'PUT', body: JSON.stringify({ settings: { url: jira.url, email: 'oncall@example.com', project: 'OPS', kibana_url: evil.url } }) })).status).toBe(400);
      const renamed = await api(c, `${path}/${id}`, { method: 'PUT', body: JSON.stringify({ settings: { url: jira.url, email: 'oncall@example.com', project: 'OPS2' } }) });
      expect(renamed.status).toBe(200);
      expect(renamed.body.secrets_set).toEqual(['api_token']);
      expect((await stored(id)).sealed.api_token).toBe(before.sealed.api_token);

      // OpenAI: a new base_url without api_key.
      const openai = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'openai', settings: { base_url: llm.url, api_key: OPENAI_KEY, model: 'gpt-4o-mini' } }) });
      const moved = await api(c, `${path}/${openai.body.id}`, { method: 'PUT', body: JSON.stringify({ settings: { base_url: `${evil.url}/v1`, model: 'gpt-4o-mini' } }) });
      expect(moved.status).toBe(400);
      expect(moved.body.error).toMatch(/settings\.base_url.*supply api_key/);
      expect((await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test.message).toBe('model gpt-4o-mini available');
      expect(evil.requests).toEqual([]);

      // The legitimate move: the secret supplied again with the new url.
      const legit = await api(c, `${path}/${id}`, { method: 'PUT', body: JSON.stringify({ settings: { url: jira2.url, email: 'oncall@example.com', api_token: JIRA_TOKEN, project: 'OPS' } }) });
      expect(legit.status).toBe(200);
      expect(legit.body.settings.url).toBe(jira2.url);
      const tested = await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' });
      expect(tested.body.last_test).toMatchObject({ ok: true, message: 'authenticated as oncall@example.com on Jira 1001.0.0 (Cloud)' });
      expect(jira2.requests.length).toBeGreaterThan(0);

      const refusal = await auditRecord(c, 'integration.update', id, (r) => r.event.outcome === 'failure');
      expect(refusal).toMatchObject({ event: { category: 'configuration', outcome: 'failure' }, user: { name: expect.any(String) } });
      expect(refusal.event.reason).toMatch(/supply api_token/);
      await auditRecord(c, 'integration.update', id, (r) => r.event.outcome === 'success');
      await auditRecord(c, 'integration.create', id, (r) => r.event.outcome === 'success');
      await auditRecord(c, 'integration.test', id, (r) => r.event.category === 'integration' && r.event.outcome === 'success');
      expect(JSON.stringify((await api(c, `/audit?size=200`)).body)).not.toContain(JIRA_TOKEN);
      expect(evil.requests).toEqual([]);
    } finally {
      await Promise.all([evil.stop(), jira2.stop()]);
    }
  });

  it('a connection test reports a status and a short reason, never the remote body; the failure is audited', async () => {
    const MARKER = `BODY-MARKER-${randomBytes(4).toString('hex')}`;
    const remote = new Capture();
    await remote.start();
    try {
      const s = await startStack(esUrl, running, { 'missing-price.yml': rule }, { env: { STACKLENS_SECRET_KEY: KEY } });
      const c = s.collectors[0];
      const created = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'jira', settings: { url: remote.url, email: 'oncall@example.com', api_token: JIRA_TOKEN, project: 'OPS' } }) });
      const id = created.body.id;
      remote.answer = { status: 401, type: 'application/json', body: JSON.stringify({ errorMessages: [MARKER.repeat(20)], message: MARKER }) };
      const failed = await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' });
      expect(failed.status).toBe(502);
      expect(failed.body.last_test).toMatchObject({ ok: false, message: 'HTTP 401 from Jira (credentials refused)' });
      remote.answer = { status: 503, type: 'text/html', body: `<html>${MARKER}</html>` };
      const down = await api(c, `${path}/${id}/test`, { method: 'POST', body: '{}' });
      expect(down.body.last_test.message).toBe('HTTP 503 from Jira (server error)');

      const openai = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'openai', settings: { base_url: `${remote.url}/v1`, api_key: OPENAI_KEY, model: 'gpt-4o-mini' } }) });
      remote.answer = { status: 400, type: 'application/json', body: JSON.stringify({ error: { message: MARKER, type: MARKER, code: MARKER } }) };
      const llmFailed = await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' });
      expect(llmFailed.body.last_test.message).toBe('HTTP 400 from the OpenAI API (request refused)');

      const everything = JSON.stringify([failed.body, down.body, llmFailed.body, await api(c, path), await stored(id)]);
      expect(everything).not.toContain(MARKER);
      const record = await auditRecord(c, 'integration.test', id, (r) => r.event.outcome === 'failure');
      expect(record.event).toMatchObject({ category: 'integration', reason: expect.stringMatching(/^HTTP (401|503) from Jira/) });
      expect(JSON.stringify((await api(c, `/audit?action=integration.test&size=200`)).body)).not.toContain(MARKER);
    } finally {
      await remote.stop();
    }
  });

  it('a sealed value copied into another integration or field in Elasticsearch does not open: reported unreadable, not applied, never sent', async () => {
    const evil = new Capture();
    await evil.start();
    const signing = randomBytes(16).toString('hex');
    const botToken = ['xoxb', randomBytes(8).toString('hex')].join('-');
    try {
      const s = await startStack(esUrl, running, { 'missing-price.yml': rule }, { env: { STACKLENS_SECRET_KEY: KEY } });
      const c = s.collectors[0];
      const slack = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'slack', enabled: false, settings: { bot_token: botToken, signing_secret: signing, api_url: `${evil.url}/api/` } }) });
      const openai = await api(c, path, { method: 'POST', body: JSON.stringify({ type: 'openai', settings: { base_url: llm.url, api_key: OPENAI_KEY, model: 'gpt-4o-mini' } }) });
      expect((await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test.ok).toBe(true);

      // With write access to Elasticsearch only: Slack's signing secret into OpenAI's api_key, base_url pointed elsewhere.
      const slackDoc = await stored(slack.body.id);
      await es.update({ index: 'stacklens-integrations', id: openai.body.id, doc: { sealed: { api_key: slackDoc.sealed.signing_secret }, settings: { base_url: `${evil.url}/v1` } }, refresh: 'wait_for' });
      // And within Slack, the signing secret into the bot token.
      await es.update({ index: 'stacklens-integrations', id: slack.body.id, doc: { sealed: { bot_token: slackDoc.sealed.signing_secret } }, refresh: 'wait_for' });

      const shown = await api(c, `${path}/${openai.body.id}`);
      expect(shown.body.secrets_unreadable).toEqual(['api_key']);
      expect((await api(c, `${path}/${slack.body.id}`)).body.secrets_unreadable).toEqual(['bot_token']);
      const tested = await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' });
      expect(tested.status).toBe(409);
      expect(tested.body.error).toMatch(/^settings\.api_key: the stored sealed value does not open .*; supply api_key again$/);
      expect((await api(c, `${path}/${slack.body.id}/test`, { method: 'POST', body: '{}' })).status).toBe(409);
      await auditRecord(c, 'integration.test', openai.body.id, (r) => r.event.outcome === 'failure' && /does not open/.test(r.event.reason));

      // Not applied: the collector names it as unreadable and skips it (its reload runs every 10 s).
      await waitFor('the unreadable warning', async () => c.proc.output.includes(openai.body.id) && /skipped/.test(c.proc.output), 20_000, 300);
      expect(evil.requests).toEqual([]);
      for (const secret of [signing, botToken, OPENAI_KEY]) {
        expect(evil.seen()).not.toContain(secret);
        expect(c.proc.output).not.toContain(secret);
      }

      // Storing the secret again (with the destination it should have) repairs it.
      const repaired = await api(c, `${path}/${openai.body.id}`, { method: 'PUT', body: JSON.stringify({ settings: { base_url: llm.url, api_key: OPENAI_KEY, model: 'gpt-4o-mini' } }) });
      expect(repaired.status).toBe(200);
      expect(repaired.body.secrets_unreadable).toBeUndefined();
      expect((await api(c, `${path}/${openai.body.id}/test`, { method: 'POST', body: '{}' })).body.last_test.message).toBe('model gpt-4o-mini available');
      expect(evil.requests).toEqual([]);
    } finally {
      await evil.stop();
    }
  });
});
