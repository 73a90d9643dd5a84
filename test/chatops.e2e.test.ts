// ChatOps and search through the collector CLI: slash commands, Events API and the search
// API, with requests signed (or not) the way Slack and Mattermost send them.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, api, incidentsOf, missingPrice, missingPriceAnyRule, startStack, testSecret } from './stack.js';
import { FakeSlack, slackSign } from './fakes/slack-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const secret = testSecret;
const SLACK_TOKEN = secret('xoxb');
const SIGNING_SECRET = secret('signing');
const MM_COMMAND_TOKEN = secret('mmcommand');
const slack = new FakeSlack(SLACK_TOKEN);
const env = { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, MATTERMOST_COMMAND_TOKEN: MM_COMMAND_TOKEN };

beforeAll(async () => {
  await slack.start();
  slack.users.set('U0ALICE001', 'alice');
  slack.users.set('U0BOB00001', 'bob');
});
afterAll(() => slack.stop());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

// The incidents belong to team ops: only a team configured in chat.teams is acted on from chat.
const rule = missingPriceAnyRule('ops-missing-price', 'labels: { team: ops }\nnotify: [slack]');

const config = (answerWithin = '2500ms') => `integrations:
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    signing_secret: \${SLACK_SIGNING_SECRET}
    api_url: ${slack.url}/api/
  mattermost:
    url: http://127.0.0.1:9
    webhook_url: http://127.0.0.1:9/hooks/unused
    team: ops
    command_token: \${MATTERMOST_COMMAND_TOKEN}
chat:
  answer_within: ${answerWithin}
  teams:
    ops:
      slack: { channels: ["#oncall", "#support"] }
      mattermost: { channels: [oncall] }
      datasets: [pos]
`;

async function stack(answerWithin?: string) {
  const s = await startStack(esUrl, running, { 'r.yml': rule }, { extra: config(answerWithin), env });
  return { s, url: s.collectors[0].url };
}

const slackMessage = (channel: string, ts: string, text: string, user = 'U0ALICE001', extra: object = {}) => ({ type: 'message', channel, user, text, ts, event_ts: ts, channel_type: 'channel', ...extra });

async function chatDocs(word: string): Promise<any[]> {
  await es.indices.refresh({ index: 'logs-chat-*' });
  const res = await es.search({ index: 'logs-chat-*', size: 100, query: { match: { message: word } } });
  return res.hits.hits.map((h) => h._source);
}

describe('ChatOps endpoints', () => {
  it('unsigned, tampered, stale and replayed Slack requests get 401 and change nothing', async () => {
    const started = new Date().toISOString();
    const { s, url } = await stack();
    s.log.append([missingPrice(`STORE_${s.ns}`, 999)]);
    const inc = await waitFor('the incident', async () => (await incidentsOf(es, s.ns))[0]);
    const body = new URLSearchParams({ command: '/stacklens', text: `ack ${inc.id}`, user_id: 'U0ALICE001', user_name: 'alice', team_id: slack.teamId, channel_id: 'C0ONCALL01', channel_name: 'oncall' }).toString();
    const now = String(Math.floor(Date.now() / 1000));
    const post = (headers: Record<string, string>, b = body) => fetch(`${url}/slack/commands`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: b });

    const unsigned = await post({});
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).error).toContain('missing X-Slack-Signature');
    const tampered = await post({ 'X-Slack-Request-Timestamp': now, 'X-Slack-Signature': slackSign(SIGNING_SECRET, now, body.replace('ack', 'resolve')) });
    expect(tampered.status).toBe(401);
    expect((await tampered.json()).error).toContain('signature does not match');
    const wrongSecret = await post({ 'X-Slack-Request-Timestamp': now, 'X-Slack-Signature': slackSign('not-the-secret', now, body) });
    expect(wrongSecret.status).toBe(401);
    const old = String(Math.floor(Date.now() / 1000) - 6 * 60);
    const stale = await post({ 'X-Slack-Request-Timestamp': old, 'X-Slack-Signature': slackSign(SIGNING_SECRET, old, body) });
    expect(stale.status).toBe(401);
    expect((await stale.json()).error).toContain('more than 5 minutes');
    for (const path of ['/slack/actions', '/slack/events']) expect((await fetch(`${url}${path}`, { method: 'POST', body: '{}' })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await incidentsOf(es, s.ns))[0].status).toBe('open');

    // Signed properly it works — once. The same request again is a replay.
    const signed = { 'X-Slack-Request-Timestamp': now, 'X-Slack-Signature': slackSign(SIGNING_SECRET, now, body) };
    const ok = await post(signed);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ response_type: 'in_channel', text: `${inc.id} acknowledged by alice (slack).` });
    const replay = await post(signed);
    expect(replay.status).toBe(401);
    expect((await replay.json()).error).toContain('replayed');
    const acked = (await incidentsOf(es, s.ns))[0];
    expect(acked.status).toBe('acknowledged');
    expect(acked.timeline.filter((t: any) => t.stage === 'acknowledged')).toEqual([expect.objectContaining({ by: 'alice (slack)' })]);

    // Mattermost: the command token decides.
    const mm = (token: string, text: string) =>
      fetch(`${url}/mattermost/commands`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, text, user_id: 'mm1', user_name: 'carol', channel_id: 'ch1', channel_name: 'oncall', command: '/stacklens', team_domain: 'ops' }).toString() });
    expect((await mm('wrong-token', `resolve ${inc.id}`)).status).toBe(401);
    expect((await incidentsOf(es, s.ns))[0].status).toBe('acknowledged');
    const resolved = await mm(MM_COMMAND_TOKEN, `resolve ${inc.id}`);
    expect(resolved.status).toBe(200);
    expect((await resolved.json()).text).toBe(`${inc.id} resolved by carol (mattermost).`);
    expect((await incidentsOf(es, s.ns))[0]).toMatchObject({ status: 'resolved', resolved_by: 'carol (mattermost)' });
    expect((await (await mm(MM_COMMAND_TOKEN, 'help')).json()).text).toContain('/stacklens search <words>');

    // Every refusal is in the audit trail (nobody identified: the request was not trusted).
    const audit = async (action: string) => (await api(s.collectors[0], `/audit?action=${action}&from=${started}&size=200`, { token: ADMIN })).body.records.map((r: any) => r.event.reason);
    const slackReasons = await waitFor('the Slack refusals audited', async () => {
      const reasons = await audit('auth.slack_signature');
      return reasons.length >= 7 ? reasons : undefined;
    });
    for (const why of ['missing X-Slack-Signature', 'signature does not match', 'more than 5 minutes', 'replayed']) expect(slackReasons.some((r: string) => r.includes(why))).toBe(true);
    expect(await audit('auth.mattermost_token')).toEqual(['invalid Mattermost command token']);
  });

  it('Events API: messages, edits, deletions, reactions and files are indexed once, whatever Slack retries; search finds them', async () => {
    const { s, url } = await stack('1ms');
    const word = `zebra${s.ns}`;
    slack.addChannel('C0SUPPORT1', 'support');
    // url_verification, as when the app's event URL is saved.
    const challenge = await slack.signedPost(`${url}/slack/events`, SIGNING_SECRET, JSON.stringify({ type: 'url_verification', token: 't', challenge: 'c-123' }), 'application/json');
    expect(await challenge.json()).toEqual({ challenge: 'c-123' });

    const t0 = Math.floor(Date.now() / 1000) - 60;
    const ts = (i: number) => `${t0 + i}.00010${i}`;
    await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0SUPPORT1', ts(1), `the ${word} kiosk froze at checkout`));
    // Delivered twice by Slack (a retry after a slow answer): one document.
    const twice = await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0SUPPORT1', ts(2), `restarting the ${word} kiosk now`, 'U0BOB00001'), { duplicate: true });
    expect(twice.attempts).toBe(2);
    await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0SUPPORT1', ts(3), `${word} reply in thread`, 'U0ALICE001', { thread_ts: ts(1) }));
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'message', subtype: 'message_changed', channel: 'C0SUPPORT1', ts: ts(4), event_ts: ts(4), message: { type: 'message', user: 'U0ALICE001', text: `the ${word} kiosk froze at payment`, ts: ts(1), edited: { user: 'U0ALICE001', ts: ts(4) } } });
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'reaction_added', user: 'U0BOB00001', reaction: 'eyes', item: { type: 'message', channel: 'C0SUPPORT1', ts: ts(1) }, event_ts: ts(5) });
    await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0SUPPORT1', ts(6), `${word} oops wrong channel`));
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'message', subtype: 'message_deleted', channel: 'C0SUPPORT1', deleted_ts: ts(6), ts: ts(7), event_ts: ts(7) });
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'file_shared', file_id: `F${s.ns}`, user_id: 'U0ALICE001', channel_id: 'C0SUPPORT1', event_ts: ts(8) });

    const docs = await chatDocs(word);
    expect(docs).toHaveLength(4);
    const first = docs.find((d) => d.chat.message_id === `C0SUPPORT1:${ts(1)}`);
    expect(first.message).toBe(`the ${word} kiosk froze at payment`);
    expect(first.chat).toMatchObject({ platform: 'slack', team: { id: slack.teamId }, channel: { id: 'C0SUPPORT1', name: 'support' }, user: { id: 'U0ALICE001', name: 'alice' }, edited: true, deleted: false, reactions: [{ name: 'eyes', count: 1, users: ['U0BOB00001'] }] });
    expect(first.data_stream).toEqual({ type: 'logs', dataset: 'chat', namespace: 'default' });
    expect(docs.find((d) => d.chat.message_id === `C0SUPPORT1:${ts(3)}`).chat.thread_id).toBe(ts(1));
    expect(docs.find((d) => d.chat.message_id === `C0SUPPORT1:${ts(6)}`).chat.deleted).toBe(true);
    await es.indices.refresh({ index: 'logs-chat-*' });
    const file = (await es.search({ index: 'logs-chat-*', query: { term: { 'chat.files.id': `F${s.ns}` } } })).hits.hits;
    expect(file).toHaveLength(1);

    // The search API: full text with highlights; deleted messages are not found.
    const found = await api(s.collectors[0], `/search?q=${word}%20kiosk&source=chat`, { token: VIEWER });
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(2);
    expect(found.body.hits.map((h: any) => h.message).sort()).toEqual([`restarting the ${word} kiosk now`, `the ${word} kiosk froze at payment`]);
    expect(found.body.hits[0].highlight[0]).toMatch(/<mark>(zebra\w+|kiosk)<\/mark>/);
    expect((await api(s.collectors[0], `/search?q=${word}&user=@bob`, { token: VIEWER })).body.hits.map((h: any) => h.message)).toEqual([`restarting the ${word} kiosk now`]);
    expect((await api(s.collectors[0], `/search?q=${word}&channel=%23support&from=now-1h`, { token: VIEWER })).body.total).toBe(3); // the deleted one is not found
    expect((await api(s.collectors[0], `/search?q=${word}&channel=%23elsewhere`, { token: VIEWER })).body.total).toBe(0);
    expect((await api(s.collectors[0], `/search?q=${word}`, { token: '' })).status).toBe(401);
    expect((await api(s.collectors[0], `/search?q=x&source=twitter`, { token: VIEWER })).body.error).toContain('source: "twitter" is not one of chat, pos, chatbot');
    expect((await api(s.collectors[0], `/search?q=x&search_after=garbage`, { token: VIEWER })).status).toBe(400);
    expect((await api(s.collectors[0], `/search?q=x&size=0`, { token: VIEWER })).body.error).toContain('size');

    // /stacklens search in Slack: slower than answer_within (1 ms here) → "working on it", then the answer at response_url.
    const before = slack.responses.length;
    const res = await slack.command(url, SIGNING_SECRET, { text: `search ${word} in:#support from:@alice since:1h` });
    expect(await res.json()).toEqual({ response_type: 'ephemeral', text: 'Working on it…' });
    const followUp = await waitFor('the follow-up', async () => slack.responses.slice(before).find((r) => r.body.text?.includes('message(s) found')));
    expect(followUp.body.text).toContain('#support @alice');
    expect(followUp.body.text).toContain(`*${word}*`);
    expect(followUp.body.text).not.toContain('restarting'); // bob's
    expect(followUp.body.text).not.toContain('wrong channel'); // deleted
  });

  it('the search API pages deep without gaps or repeats, across sources', async () => {
    const { s, url } = await stack();
    const word = `okapi${s.ns}`;
    const t0 = Math.floor(Date.now() / 1000) - 600;
    for (let i = 0; i < 25; i++) await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0ONCALL01', `${t0 + (i % 5)}.0000${String(i).padStart(2, '0')}`, `${word} message ${i}`));
    // POS log lines carry the word too (source=pos finds those only).
    s.log.append([`[${new Date().toISOString()}] [INFO] ${word} routine line | {"storeNumber":"STORE_001","kioskNumber":"KIOSK_001"}`]);
    await waitFor('the POS line indexed', async () => (await api(s.collectors[0], `/search?q=${word}&source=pos`, { token: VIEWER })).body.total === 1, 30_000);
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = (await api(s.collectors[0], `/search?q=${word}&source=chat&size=10${cursor ? `&search_after=${cursor}` : ''}`, { token: VIEWER })).body;
      // Documents arriving meanwhile do not shift the pages (a point in time).
      if (pages === 0) await slack.deliverEvent(url, SIGNING_SECRET, slackMessage('C0ONCALL01', `${t0 + 2}.999999`, `${word} late arrival`));
      ids.push(...page.hits.map((h: any) => h.id));
      expect(page.total).toBe(25);
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    await es.indices.refresh({ index: 'logs-chat-*' });
    const all = (await api(s.collectors[0], `/search?q=${word}&size=100`, { token: VIEWER })).body;
    expect(all.total).toBe(27); // 26 chat messages and the POS line
    const times = all.hits.map((h: any) => Date.parse(h['@timestamp']));
    expect(times).toEqual([...times].sort((a, b) => b - a)); // newest first
  });

  it('/stacklens stats answers with chat activity, bot response times and errors', async () => {
    const { s, url } = await stack();
    s.log.append([missingPrice(`STORE_${s.ns}`, 999)]);
    await waitFor('the error indexed', async () => (await incidentsOf(es, s.ns)).length === 1);
    const res = await slack.command(url, SIGNING_SECRET, { text: 'stats' });
    expect(res.status).toBe(200);
    const text = (await res.json()).text as string;
    expect(text).toMatch(/\*Messages\*: \d+ in the last hour, \d+ in 24 h/);
    expect(text).toMatch(/\*Active users\*: \d+ today, \d+ in 7 days/);
    expect(text).toMatch(/\*Bot response time\*: (\d+ ms average over \d+ replies|no replies in 24 h)/);
    expect(text).toMatch(/\*Errors \(24 h\)\*: .*MISSING_PRICE \d+/);
    expect((await (await slack.command(url, SIGNING_SECRET, { text: 'frobnicate' })).json()).text).toContain('Unknown command "frobnicate"');
  });
});
