// Connection tests of every integration type against a local server that answers with a
// marker in its body: the reported reason is a status or an error code in our words, never
// the body, a secret, or URL credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { jiraSchema, mattermostSchema, openaiSchema, slackSchema, xeroSchema } from '../config.js';
import { failureReason, safeMessage, testIntegration } from './connection-tests.js';

const MARKER = 'LEAKED-BODY-MARKER-7f3a';
const SECRET = 'secret-value-9c1e5d';
let mode: { status: number; body: string; type?: string } | 'hang' = { status: 401, body: '' };
let server: Server;
let base = '';
let closedPort = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (mode === 'hang') return;
    res.writeHead(mode.status, { 'content-type': mode.type ?? 'application/json' });
    res.end(mode.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const settingsFor = (type: string, url: string, timeout = 1500): Record<string, unknown> =>
  ({
    jira: () => jiraSchema.parse({ url, email: 'a@example.com', api_token: SECRET, project: 'OPS', timeout }),
    openai: () => openaiSchema.parse({ base_url: `${url}/v1`, api_key: SECRET, model: 'gpt-4o-mini', timeout }),
    xero: () => xeroSchema.parse({ client_id: 'id', client_secret: SECRET, tenant_id: 't', base_url: `${url}/api.xro/2.0`, token_url: `${url}/connect/token`, timeout }),
    slack: () => slackSchema.parse({ bot_token: `xoxb-${SECRET}`, api_url: `${url}/api/` }),
    mattermost: () => mattermostSchema.parse({ url, token: SECRET, team: 'ops', timeout }),
  })[type]!() as Record<string, unknown>;

const failure = async (type: string, url = base, timeout?: number): Promise<string> => {
  const err = await testIntegration(type, settingsFor(type, url, timeout)).then(
    (ok) => new Error(`unexpected success: ${ok}`),
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const m = err.message;
  expect(m).not.toContain(MARKER);
  expect(m).not.toContain(SECRET);
  expect(m.length).toBeLessThanOrEqual(200);
  return m;
};

const TYPES = ['jira', 'openai', 'xero', 'slack', 'mattermost'];
const markerJson = JSON.stringify({ message: MARKER, error: MARKER, errorMessages: [MARKER], error_description: MARKER, id: MARKER, detailed_error: MARKER, status_code: 401, ok: false });

describe('connection tests report a short reason, never the remote body', () => {
  it.each(TYPES)('%s: an HTTP error with the marker in its JSON body', async (type) => {
    mode = { status: 401, body: markerJson };
    const m = await failure(type);
    expect(m).toMatch(type === 'slack' ? /^HTTP 401 from Slack|Slack refused the call/ : /HTTP 401 from .*credentials refused/);
  });

  it.each(TYPES)('%s: a server error with the marker in an HTML body', async (type) => {
    mode = { status: 500, body: `<html><body><h1>${MARKER}</h1></body></html>`, type: 'text/html' };
    expect(await failure(type)).toMatch(type === 'mattermost' ? /^Mattermost answered an error without a status code$/ : /^HTTP 500 from .* \(server error\)$/);
  });

  it.each(TYPES)('%s: connection refused', async (type) => {
    expect(await failure(type, `http://127.0.0.1:${closedPort}`)).toMatch(/connection refused/);
  });

  it.each(['jira', 'openai', 'xero', 'mattermost'])('%s: a server that never answers → timeout after the configured seconds', async (type) => {
    mode = 'hang';
    expect(await failure(type, base, 1000)).toMatch(/^timeout after 1 s$/);
  });

  it('slack: an ok:false answer carrying the marker is told in our words', async () => {
    mode = { status: 200, body: JSON.stringify({ ok: false, error: MARKER }) };
    expect(await failure('slack')).toBe('Slack refused the call: not ok');
    mode = { status: 200, body: JSON.stringify({ ok: false, error: 'invalid_auth' }) };
    expect(await failure('slack')).toBe('Slack refused the call: token refused (invalid_auth)');
  });

  it('a success names only shape-checked identity values', async () => {
    mode = { status: 200, body: JSON.stringify({ ok: true, team: `${MARKER}\n<script>`, user: 'stacklens', team_id: 'T1', user_id: 'U1' }) };
    const said = await testIntegration('slack', settingsFor('slack', base));
    expect(said).toBe('Slack: connected to (unnamed) as stacklens');
  });

  it('messages are scrubbed of secrets and URL credentials and capped', () => {
    // A fake nested bot token, made at run time (no token-shaped literal in the repository).
    const nested = ['fake', 'nested', 'bot', 'credential'].join('-');
    const s = { api_token: SECRET, workspaces: { T1: { bot_token: nested } } };
    expect(safeMessage(`x ${SECRET} https://user:pw@host/ ${nested}`, 'jira', s)).toBe(`x *** https://***@host/ ${nested}`);
    expect(safeMessage(nested, 'slack', { workspaces: s.workspaces })).toBe('***');
    expect(safeMessage('y'.repeat(500), 'jira', s).length).toBe(200);
    expect(failureReason('Jira', new Error(`Jira refused the request (403): ${MARKER} (500)`))).toBe('HTTP 403 from Jira (forbidden: credentials or permissions)');
    expect(failureReason('Jira', new Error(`Jira unreachable: ${MARKER}`))).toBe('Jira unreachable');
  });
});
