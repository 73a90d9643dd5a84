// Mattermost conversations captured over the WebSocket of @mattermost/client, through the
// collector CLI, from a server speaking Mattermost's API v4 + WebSocket (test/fakes) —
// including a server restart mid-conversation: nothing lost, nothing doubled.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, sleep, startCollector, tempDir, waitFor, type CollectorHandle } from './helpers.js';
import { FakeMattermost } from './fakes/mattermost-server.js';
import { VIEWER } from './stack.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: CollectorHandle[] = [];
const MM_TOKEN = ['mm', Math.random().toString(36).slice(2), Math.random().toString(36).slice(2)].join('-');
const mattermost = new FakeMattermost(MM_TOKEN);

beforeAll(async () => {
  await mattermost.start();
});
afterAll(() => mattermost.stop());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

async function capture(): Promise<CollectorHandle> {
  const dir = tempDir();
  const c = await startCollector(esUrl, {
    dir,
    extra: `detection:\n  enabled: true\napi:\n  viewer_tokens: ["${VIEWER}"]\nintegrations:\n  mattermost:\n    url: ${mattermost.url}\n    token: \${MATTERMOST_BOT_TOKEN}\n    team: ops\n    reconnect_min: 1s\n    reconnect_max: 5s\n`,
    env: { MATTERMOST_BOT_TOKEN: MM_TOKEN },
  });
  running.push(c);
  return c;
}

async function stored(word: string): Promise<any[]> {
  await es.indices.refresh({ index: 'logs-chat-*' });
  const res = await es.search({ index: 'logs-chat-*', size: 200, query: { match: { message: word } }, sort: [{ '@timestamp': 'asc' }] });
  return res.hits.hits.map((h) => ({ _id: h._id, ...(h._source as object) }));
}

describe('Mattermost capture', () => {
  it('posts, edits, deletions, reactions and status changes; a server restart mid-conversation loses and doubles nothing', async () => {
    const word = `heron${Math.random().toString(36).slice(2, 8)}`;
    mattermost.addUser('dana');
    mattermost.addUser('eli');
    const c = await capture();
    await waitFor('the WebSocket connected', async () => mattermost.connectedSockets() === 1, 30_000);

    const said: string[] = [];
    const say = (user: string, text: string, root = '') => {
      said.push(text);
      return mattermost.userPost(user, 'oncall', text, root);
    };
    const first = say('dana', `${word} the kiosk at store 7 is down`);
    say('eli', `${word} looking at it`, first.id);
    const typo = say('eli', `${word} restartng it`);
    const wrong = say('dana', `${word} wrong channel, sorry`);
    await waitFor('four captured', async () => (await stored(word)).length === 4, 20_000);
    mattermost.userEdit(typo.id, `${word} restarting it`);
    mattermost.userDelete(wrong.id);
    mattermost.react('dana', first.id, 'eyes');
    mattermost.setStatus('dana', 'away');
    await waitFor('edit, deletion and reaction applied', async () => {
      const docs = await stored(word);
      return docs.some((d) => d.message.endsWith('restarting it') && d.chat.edited) && docs.some((d) => d.chat.deleted) && docs.some((d) => d.chat.reactions?.length);
    }, 20_000);

    // The server restarts; people go on talking before the collector is back on the socket.
    const socketsBefore = mattermost.authenticatedSockets;
    await mattermost.restart(300);
    // Nobody is listening on the socket yet: these reach the collector only through its catch-up.
    expect(mattermost.connectedSockets()).toBe(0);
    for (let i = 0; i < 10; i++) say(i % 2 ? 'dana' : 'eli', `${word} during the outage ${i}`);
    mattermost.userEdit(first.id, `${word} the kiosk at store 7 is down (since 9:00)`);
    await waitFor('reconnected', async () => mattermost.authenticatedSockets > socketsBefore && mattermost.connectedSockets() === 1, 30_000);
    // And it stays connected: the client took the new server's event sequence (no reconnect loop).
    const sockets = mattermost.authenticatedSockets;
    // A fixed wait is right here: a reconnect loop shows only over time (reconnect_min is 1s).
    await sleep(3000);
    expect(mattermost.authenticatedSockets).toBe(sockets);
    expect(mattermost.connectedSockets()).toBe(1);
    for (let i = 0; i < 5; i++) say('dana', `${word} after the restart ${i}`);

    const docs = await waitFor('every message once', async () => {
      const d = await stored(word);
      return d.length === said.length ? d : undefined;
    }, 30_000);
    // A marker posted after everything else: once it is stored, the catch-up and the socket
    // have delivered all they had, so a doubled message would be here by now.
    const marker = `marker${word}`;
    mattermost.userPost('eli', 'oncall', `${marker} end of the conversation`);
    await waitFor('the marker captured', async () => (await stored(marker)).length === 1, 20_000);
    const again = await stored(word);
    expect(again).toHaveLength(said.length);
    expect(new Set(again.map((d) => d.chat.message_id)).size).toBe(said.length);
    const byId = new Map(docs.map((d) => [d.chat.message_id, d]));
    expect(byId.get(first.id)).toMatchObject({
      message: `${word} the kiosk at store 7 is down (since 9:00)`,
      chat: { platform: 'mattermost', team: { name: 'ops' }, channel: { name: 'oncall' }, user: { name: 'dana' }, edited: true, reactions: [{ name: 'eyes', count: 1 }] },
    });
    expect(byId.get(typo.id).message).toBe(`${word} restarting it`);
    expect(byId.get(wrong.id).chat.deleted).toBe(true);
    expect([...byId.values()].filter((d) => d.chat.thread_id === first.id)).toHaveLength(1);
    // The status change is kept too.
    await es.indices.refresh({ index: 'logs-chat-*' });
    const statuses = await es.search({ index: 'logs-chat-*', query: { bool: { filter: [{ term: { 'chat.type': 'status' } }, { term: { 'chat.user.name': 'dana' } }, { term: { 'chat.status': 'away' } }] } } });
    expect((statuses.hits.total as any).value).toBeGreaterThanOrEqual(1);

    // And the search API finds what was said during the outage.
    const res = await (await fetch(`${c.url}/api/search?q=${word}%20outage&source=chat&user=dana`, { headers: { authorization: `Bearer ${VIEWER}` } })).json();
    expect(res.total).toBe(5);
    expect(res.hits[0].highlight.join(' ')).toContain('<mark>outage</mark>');
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(Number(/^stacklens_chat_messages_indexed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(said.length);
  });
});
