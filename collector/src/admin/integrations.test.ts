// The integration store's two rules about secrets, on an in-memory index: stored secrets
// never follow a new destination, and a sealed value only opens where it was sealed.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import { SecretBox } from './secret-box.js';
import { IntegrationError, IntegrationStore, destinations, movedDestinations, publicView, type StoredIntegration } from './integrations.js';

/** The few Elasticsearch calls the store makes, over a Map. */
function memoryIndex() {
  const docs = new Map<string, StoredIntegration>();
  const notFound = () => Object.assign(new Error('not found'), { meta: { statusCode: 404 } });
  const client = {
    async search() {
      return { hits: { hits: [...docs].map(([id, d]) => ({ _id: id, _source: structuredClone(d) })) } };
    },
    async get({ id }: { id: string }) {
      if (!docs.has(id)) throw notFound();
      return { _source: structuredClone(docs.get(id)) };
    },
    async create({ id, document }: { id: string; document: StoredIntegration }) {
      docs.set(id, structuredClone(document));
    },
    async index({ id, document }: { id: string; document: StoredIntegration }) {
      docs.set(id, structuredClone(document));
    },
    async delete({ id }: { id: string }) {
      if (!docs.delete(id)) throw notFound();
    },
  };
  return { docs, client: client as unknown as Client };
}

const box = SecretBox.fromEnv({ STACKLENS_SECRET_KEY: randomBytes(32).toString('base64') }) as SecretBox;
const setup = () => {
  const { docs, client } = memoryIndex();
  return { docs, store: new IntegrationStore(client, box) };
};
const jira = (over: Record<string, unknown> = {}) => ({ url: 'https://jira.example.com', email: 'a@example.com', api_token: 'tok-jira-1', project: 'OPS', ...over });

async function refusal(p: Promise<unknown>): Promise<IntegrationError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

describe('destinations', () => {
  it('are the URL-named keys and any http(s) value, nested included', () => {
    const d = destinations({ url: 'https://a', base_url: 'x', email: 'a@b', kibana_url: 'https://k', timeout: 5, nested: { T1: { hook: 'http://h' } }, note: 'see https://x' });
    expect([...d.keys()].sort()).toEqual(['base_url', 'kibana_url', 'nested.T1.hook', 'url']);
  });
  it('moved: added or changed, not removed', () => {
    expect(movedDestinations({ url: 'https://a', kibana_url: 'https://k' }, { url: 'https://a' })).toEqual([]);
    expect(movedDestinations({ url: 'https://a' }, { url: 'https://b', grafana_url: 'https://g' })).toEqual(['url', 'grafana_url']);
  });
});

describe('IntegrationStore: stored secrets never follow a new destination', () => {
  it('refuses a new url without the stored secret, stores nothing, names the key', async () => {
    const { docs, store } = setup();
    const created = await store.create({ type: 'jira', settings: jira() });
    const before = structuredClone(docs.get(created.id));
    const { api_token: _, ...noToken } = jira({ url: 'https://evil.example.net' });
    const err = await refusal(store.replace(created.id, { settings: noToken }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/settings\.url/);
    expect(err.message).toMatch(/supply api_token/);
    expect(docs.get(created.id)).toEqual(before);
  });

  it('allows the new url with the secret supplied again; other changes keep the stored secret as sealed', async () => {
    const { docs, store } = setup();
    const created = await store.create({ type: 'jira', settings: jira() });
    const { api_token: _, ...noToken } = jira({ project: 'NEW' });
    const renamed = await store.replace(created.id, { settings: noToken });
    expect(renamed.settings.project).toBe('NEW');
    expect(renamed.sealed.api_token).toBe(created.sealed.api_token);
    const moved = await store.replace(created.id, { settings: jira({ url: 'https://jira2.example.com', api_token: 'tok-jira-2' }) });
    expect(store.resolve(moved)).toMatchObject({ url: 'https://jira2.example.com', api_token: 'tok-jira-2' });
    expect(store.resolve(docs.get(created.id)!)).toMatchObject({ api_token: 'tok-jira-2' });
  });

  it('counts every URL-valued setting (kibana_url, a default restored) and every update path', async () => {
    const { store } = setup();
    const j = await store.create({ type: 'jira', settings: jira() });
    const { api_token: _, ...noToken } = jira({ kibana_url: 'https://kibana.example.net' });
    expect((await refusal(store.replace(j.id, { settings: noToken }))).message).toMatch(/settings\.kibana_url.*supply api_token/);

    // OpenAI: leaving base_url out restores its default — a new destination too.
    const o = await store.create({ type: 'openai', settings: { base_url: 'https://llm.internal/v1', api_key: 'sk-1', model: 'm' } });
    expect((await refusal(store.replace(o.id, { settings: { model: 'm' } }))).message).toMatch(/settings\.base_url.*supply api_key/);

    // Any other update path, e.g. one that edits settings directly.
    expect((await refusal(store.update(o.id, (cur) => ({ ...cur, settings: { ...cur.settings, base_url: 'https://evil.example.net' } })))).status).toBe(400);
    await store.update(o.id, (cur) => ({ ...cur, enabled: false }));
  });

  it('Slack: a new api_url needs every stored secret (workspaces too); a secret webhook_url change counts', async () => {
    const { store } = setup();
    const s = await store.create({ type: 'slack', settings: { bot_token: 'xoxb-1', signing_secret: 'sign-1', workspaces: { T0ABC: { bot_token: 'xoxb-2' } } } });
    const err = await refusal(store.replace(s.id, { settings: { bot_token: 'xoxb-1', api_url: 'https://evil.example.net/api/' } }));
    expect(err.message).toMatch(/supply signing_secret, workspaces$/);
    const ok = await store.replace(s.id, { settings: { bot_token: 'xoxb-1', signing_secret: 'sign-1', workspaces: { T0ABC: { bot_token: 'xoxb-2' } }, api_url: 'https://slack.example.com/api/' } });
    expect(ok.settings.api_url).toBe('https://slack.example.com/api/');

    const hook = await store.create({ type: 'mattermost', settings: { url: 'https://mm.example.com', team: 'ops', token: 'mm-1', webhook_url: 'https://mm.example.com/hooks/a' } });
    expect((await refusal(store.replace(hook.id, { settings: { url: 'https://mm.example.com', team: 'ops', webhook_url: 'https://evil.example.net/hooks/a' } }))).message).toMatch(/settings\.webhook_url.*supply token/);
    await store.replace(hook.id, { settings: { url: 'https://mm.example.com', team: 'ops', webhook_url: 'https://mm.example.com/hooks/a' } });
  });
});

describe('IntegrationStore: sealed values are bound to their integration and field', () => {
  it('a value copied into another integration or field does not open: unreadable, skipped by active(), 409 on use', async () => {
    const { docs, store } = setup();
    const slack = await store.create({ type: 'slack', settings: { bot_token: 'xoxb-1', signing_secret: 'sign-1' } });
    const openai = await store.create({ type: 'openai', settings: { base_url: 'https://llm.example.com/v1', api_key: 'sk-1', model: 'm' } });
    expect(store.resolve(openai).api_key).toBe('sk-1');

    // Someone with write access to the index copies Slack's signing secret into OpenAI's key.
    docs.get(openai.id)!.sealed.api_key = slack.sealed.signing_secret;
    const stolen = (await store.get(openai.id))!;
    expect(store.unreadable(stolen)).toEqual(['api_key']);
    expect(() => store.resolve(stolen)).toThrow(/settings\.api_key: the stored sealed value does not open.*supply api_key again/);
    const { settings, unreadable } = await store.active();
    expect(unreadable).toEqual([openai.id]);
    expect(settings.openai).toBeUndefined();
    expect(settings.slack).toMatchObject({ signing_secret: 'sign-1' });

    // Within one integration, from one field to another.
    docs.get(slack.id)!.sealed.bot_token = slack.sealed.signing_secret;
    expect(store.unreadable((await store.get(slack.id))!)).toEqual(['bot_token']);

    // A whole document copied under another id: bound to where it was stored, not to the id written in it.
    docs.set('copy', { ...structuredClone(docs.get(openai.id)!), sealed: { api_key: openai.sealed.api_key } });
    expect(store.unreadable((await store.get('copy'))!)).toEqual(['api_key']);

    // Storing the secret again repairs it (same destination: no other secret needed).
    const repaired = await store.replace(openai.id, { settings: { base_url: 'https://llm.example.com/v1', api_key: 'sk-2', model: 'm' } });
    expect(store.resolve(repaired).api_key).toBe('sk-2');
    expect(publicView(repaired)).not.toHaveProperty('sealed');
  });

  it('an old-format (v1) value is refused with "store the secret again", and a PUT leaving it out is a 409', async () => {
    const { docs, store } = setup();
    const j = await store.create({ type: 'jira', settings: jira() });
    docs.get(j.id)!.sealed.api_token = 'v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:AAAA';
    const old = (await store.get(j.id))!;
    expect(() => store.resolve(old)).toThrow(/settings\.api_token: the stored sealed value is in the old format \(v1\).*supply api_token again/);
    const { api_token: _, ...noToken } = jira({ project: 'X' });
    expect((await refusal(store.replace(j.id, { settings: noToken }))).status).toBe(409);
    await store.replace(j.id, { settings: jira({ api_token: 'tok-new' }) });
    expect(store.resolve((await store.get(j.id))!).api_token).toBe('tok-new');
  });
});
