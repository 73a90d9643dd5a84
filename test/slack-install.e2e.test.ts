// #18 Slack app installation: "Add to Slack" through the real collector and a Slack fake that
// speaks OAuth 2.0 v2 (authorize page, oauth.v2.access) — two workspaces installed, each bot
// token sealed and used; forged, altered, expired, replayed, cross-browser and denied
// installs refused with the reason and audited; app_uninstalled removes the workspace.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeState } from '@stacklens/collector';
import { esClient, freePort, startCollector, tempDir, waitFor, type CollectorHandle } from './helpers.js';
import { FakeSlack } from './fakes/slack-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const secret = (what: string) => `${what}-${randomBytes(16).toString('hex')}`;
const BOT_TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = secret('signing');
const CLIENT_ID = `${Date.now()}.${randomBytes(4).readUInt32BE()}`;
const CLIENT_SECRET = secret('client');
const ADMIN = secret('admin');
const slack = new FakeSlack(BOT_TOKEN);
let collector: CollectorHandle;
let started: string;

/** A browser: follows nothing by itself, keeps cookies per path prefix. */
class Browser {
  private readonly jar = new Map<string, { value: string; path: string }>();
  async get(url: string): Promise<Response> {
    const u = new URL(url);
    const cookies = [...this.jar.entries()].filter(([, c]) => u.pathname.startsWith(c.path)).map(([k, c]) => `${k}=${c.value}`);
    const res = await fetch(url, { redirect: 'manual', headers: cookies.length ? { cookie: cookies.join('; ') } : {} });
    for (const set of res.headers.getSetCookie()) {
      const [pair, ...attrs] = set.split(';').map((p) => p.trim());
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      if (attrs.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, { value, path });
    }
    return res;
  }
  /** /slack/install → Slack's authorize page → back to the callback; the three answers. */
  async install(): Promise<{ start: Response; authorize: Response; callback: Response; callbackUrl: string }> {
    const start = await this.get(`${collector.url}/slack/install`);
    const authorize = await this.get(start.headers.get('location')!);
    const callbackUrl = authorize.headers.get('location')!;
    const callback = await this.get(callbackUrl);
    return { start, authorize, callback, callbackUrl };
  }
}

const capabilities = async (): Promise<string[]> => {
  const res = await fetch(`${collector.url}/api/outbox?size=1`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await res.json()).collector.capabilities;
};
const installations = async () => {
  await es.indices.refresh({ index: 'stacklens-slack-installations', ignore_unavailable: true });
  const res = await es.search({ index: 'stacklens-slack-installations', size: 100, query: { terms: { _id: ['T0SECONDWS', 'T0THIRDWS1'] } } }, { ignore: [404] });
  return ((res as any).hits?.hits ?? []) as { _id: string; _source: any }[];
};
/** The audit records of `action` since this file started, once there are at least `min` (records are written in the background). */
const audit = (action: string, min = 1) =>
  waitFor(`${min} audit record(s) ${action}`, async () => {
    const res = await fetch(`${collector.url}/api/audit?action=${action}&from=${started}&size=50`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const records = (await res.json()).records as any[];
    return records.length >= min ? records : undefined;
  }, 20_000, 200);

beforeAll(async () => {
  started = new Date().toISOString();
  await slack.start();
  // Clean slate: these workspace ids are this file's.
  for (const team of ['T0SECONDWS', 'T0THIRDWS1']) await es.delete({ index: 'stacklens-slack-installations', id: team, refresh: true }, { ignore: [404] });
  const port = await freePort();
  const dir = tempDir();
  mkdirSync(join(dir, 'rules'));
  slack.oauthApps.set(CLIENT_ID, { secret: CLIENT_SECRET, redirectUris: [`http://127.0.0.1:${port}/slack/oauth/callback`] });
  collector = await startCollector(esUrl, {
    dir,
    port,
    extra: [
      'api:',
      '  admin_tokens: ["${ADMIN}"]',
      'integrations:',
      '  slack:',
      '    bot_token: ${SLACK_BOT_TOKEN}',
      '    signing_secret: ${SLACK_SIGNING_SECRET}',
      `    api_url: ${slack.url}/api/`,
      '    index_messages: false',
      `    client_id: "${CLIENT_ID}"`,
      '    client_secret: ${SLACK_CLIENT_SECRET}',
      `    install_redirect_url: http://127.0.0.1:${port}/slack/oauth/callback`,
      `    authorize_url: ${slack.url}/oauth/v2/authorize`,
      '',
    ].join('\n'),
    env: { ADMIN, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_CLIENT_SECRET: CLIENT_SECRET, STACKLENS_SECRET_KEY: randomBytes(32).toString('hex') },
  });
}, 240_000);
afterAll(async () => {
  await collector?.stop('SIGKILL');
  await slack.stop();
});

describe('Slack app installation', () => {
  it('installs two workspaces: each bot token sealed in Elasticsearch and its client running', async () => {
    const browser = new Browser();
    slack.nextInstall = { team: 'T0SECONDWS', teamName: 'Second <Workspace>' };
    const first = await browser.install();
    expect(first.start.status).toBe(302);
    const to = new URL(first.start.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(`${slack.url}/oauth/v2/authorize`);
    expect(to.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(to.searchParams.get('scope')).toContain('chat:write');
    expect(to.searchParams.get('redirect_uri')).toBe(`${collector.url}/slack/oauth/callback`);
    expect(to.searchParams.get('state')).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(first.callback.status).toBe(200);
    const html = await first.callback.text();
    expect(html).toContain('StackLens is installed');
    // The workspace's name is shown as text, never as markup.
    expect(html).toContain('Second &lt;Workspace&gt;');

    slack.nextInstall = { team: 'T0THIRDWS1', teamName: 'Third' };
    expect((await new Browser().install()).callback.status).toBe(200);

    const stored = await installations();
    expect(stored.map((d) => d._id).sort()).toEqual(['T0SECONDWS', 'T0THIRDWS1']);
    for (const d of stored) {
      expect(JSON.stringify(d._source)).not.toContain(slack.installed.get(d._id)!);
      expect(d._source.sealed_bot_token).toBeTruthy();
    }
    // Each installed workspace is a workspace of the Slack integration now (its token opened, its client built).
    await waitFor('both workspaces configured', async () => {
      const caps = await capabilities();
      return caps.includes('slack:T0SECONDWS') && caps.includes('slack:T0THIRDWS1');
    }, 20_000);
    expect((await audit('slack.install', 2)).filter((r) => r.event.outcome === 'success').map((r) => r.stacklens.audit.target).sort()).toEqual(['T0SECONDWS', 'T0THIRDWS1']);
    // The client secret went to oauth.v2.access only, and is in no log line or audit record.
    expect(collector.proc.output).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(await audit('slack.install'))).not.toContain(CLIENT_SECRET);
  });

  it('refuses a replayed, forged, altered, expired, cross-browser or denied install, saying why', async () => {
    slack.nextInstall = { team: 'T0THIRDWS1', teamName: 'Third' };
    const browser = new Browser();
    const done = await browser.install();
    expect(done.callback.status).toBe(200);
    // The same callback again (the code would be refused by Slack too, but the state is refused first).
    const again = await fetch(done.callbackUrl, { redirect: 'manual', headers: { cookie: `stacklens_slack_oauth_state=${new URL(done.callbackUrl).searchParams.get('state')!.split('.')[0]}` } });
    expect(again.status).toBe(400);

    const callback = (state: string, cookie?: string, extra = '&code=whatever') =>
      fetch(`${collector.url}/slack/oauth/callback?state=${encodeURIComponent(state)}${extra}`, { redirect: 'manual', headers: cookie ? { cookie: `stacklens_slack_oauth_state=${cookie}` } : {} });
    const text = async (r: Response) => (await r.text()).replace(/<[^>]+>/g, ' ');

    // Replayed: a state already used, with its own browser's cookie.
    const replayBrowser = new Browser();
    const start = await replayBrowser.get(`${collector.url}/slack/install`);
    const authorize = await replayBrowser.get(start.headers.get('location')!);
    const url = authorize.headers.get('location')!;
    const nonceCookie = (start.headers.getSetCookie()[0] ?? '').split(';')[0].split('=')[1];
    expect((await fetch(url, { redirect: 'manual', headers: { cookie: `stacklens_slack_oauth_state=${nonceCookie}` } })).status).toBe(200);
    const replayed = await fetch(url, { redirect: 'manual', headers: { cookie: `stacklens_slack_oauth_state=${nonceCookie}` } });
    expect(replayed.status).toBe(400);
    expect(await text(replayed)).toMatch(/state: already used/);

    // Forged: signed with another secret.
    const forged = makeState('not-the-client-secret', Date.now());
    const r1 = await callback(forged.state, forged.nonce);
    expect(r1.status).toBe(400);
    expect(await text(r1)).toMatch(/signature does not match/);
    // Altered: a valid state with its payload changed.
    const real = makeState(CLIENT_SECRET, Date.now());
    const altered = `${Buffer.from(JSON.stringify({ n: real.nonce, t: Math.floor(Date.now() / 1000) + 5 })).toString('base64url')}.${real.state.split('.')[1]}`;
    expect((await callback(altered, real.nonce)).status).toBe(400);
    // Expired: signed right, 10 minutes old.
    const old = makeState(CLIENT_SECRET, Date.now() - 10 * 60_000);
    const r2 = await callback(old.state, old.nonce);
    expect(r2.status).toBe(400);
    expect(await text(r2)).toMatch(/expired/);
    // Another browser: a valid state without the cookie of the browser that started.
    const fresh = makeState(CLIENT_SECRET, Date.now());
    const r3 = await callback(fresh.state);
    expect(r3.status).toBe(400);
    expect(await text(r3)).toMatch(/not started in this browser/);
    // Denied at Slack's page.
    slack.nextInstall = 'deny';
    const denied = await new Browser().install();
    expect(denied.callback.status).toBe(400);
    expect(await text(denied.callback)).toMatch(/access_denied/);
    // A code Slack does not know: its error, not the request.
    const good = makeState(CLIENT_SECRET, Date.now());
    const r4 = await callback(good.state, good.nonce, '&code=not-a-code');
    expect(r4.status).toBe(502);
    expect(await text(r4)).toMatch(/invalid_code/);

    const failures = (await audit('slack.install', 11)).filter((r) => r.event.outcome === 'failure');
    expect(failures.length).toBeGreaterThanOrEqual(7);
    expect(failures.every((r) => typeof r.event.reason === 'string' && r.event.reason.length > 0)).toBe(true);
    // Nothing was installed by any of them.
    expect((await installations()).map((d) => d._id).sort()).toEqual(['T0SECONDWS', 'T0THIRDWS1']);
  });

  it('app_uninstalled removes the workspace: its token is gone from Elasticsearch and from the running integration', async () => {
    const delivered = await slack.deliverEvent(collector.url, SIGNING_SECRET, { type: 'app_uninstalled' }, { team: 'T0SECONDWS' });
    expect(delivered.status).toBe(200);
    expect((await installations()).map((d) => d._id)).toEqual(['T0THIRDWS1']);
    await waitFor('the workspace no longer configured', async () => !(await capabilities()).includes('slack:T0SECONDWS'), 20_000);
    expect(await capabilities()).toContain('slack:T0THIRDWS1');
    expect((await audit('slack.uninstall')).map((r) => r.stacklens.audit.target)).toEqual(['T0SECONDWS']);
    // A forged uninstall (bad signature) removes nothing.
    const forged = await slack.signedPost(`${collector.url}/slack/events`, 'not-the-signing-secret', JSON.stringify({ type: 'event_callback', team_id: 'T0THIRDWS1', event: { type: 'app_uninstalled' } }), 'application/json');
    expect(forged.status).toBe(401);
    expect((await installations()).map((d) => d._id)).toEqual(['T0THIRDWS1']);
  });

  it('answers 404 with what to configure when the app has no OAuth settings', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'rules'));
    const plain = await startCollector(esUrl, { dir, extra: `integrations:\n  slack:\n    bot_token: \${SLACK_BOT_TOKEN}\n    api_url: ${slack.url}/api/\n    index_messages: false\n`, env: { SLACK_BOT_TOKEN: BOT_TOKEN } });
    try {
      const res = await fetch(`${plain.url}/slack/install`, { redirect: 'manual' });
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/client_id, client_secret and install_redirect_url/);
    } finally {
      await plain.stop('SIGKILL');
    }
  });
});
